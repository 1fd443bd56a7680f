/**
 * The catalog the docs site shows, as plain JSON: the compiled manifest of the selected target,
 * each target's compiled SQL, the last run's results and, when the warehouse answered, freshness
 * and the newest feature statistics. Built here from what was read; nothing here does I/O.
 */
import type { Manifest } from '../compiler/compile.js';
import type { FreshnessReport } from '../offline/freshness.js';
import type { ViewResult } from '../offline/run.js';
import { featureType } from '../plans/aggregate.js';
import type { Project } from '../project/types.js';
import { typeName } from '../values.js';

/** A feature's newest statistics (SPEC section 11), numbers as JSON numbers. */
export type FeatureStats = Record<string, number | string | null>;

export interface CatalogFeature {
  name: string;
  type: string | null;
  description: string;
  tags: string[];
  tests: string[];
  /** aggregate views: `sum(amount) over 7d` */
  aggregation?: string;
  stats?: FeatureStats;
}

export interface CatalogView {
  name: string;
  kind: 'feature_view' | 'on_demand';
  file: string;
  description: string;
  owner: string;
  tags: string[];
  entities: string[];
  join_keys: string[];
  timestamp: string | null;
  ttl_seconds: number | null;
  materialized: string;
  online: boolean;
  relation: string | null;
  /** upstream nodes: `source:<source.table>`, `view:<name>`, `request:<name>` */
  inputs: string[];
  features: CatalogFeature[];
  /** target name -> compiled SQL (feature views only) */
  sql: Record<string, string>;
  run?: { status: string; execution_time: number; message: string; kind?: string; generated_at: string };
  freshness?: { level: string; status: string; newest_offline: string | null; watermark: string | null; age_seconds: number | null };
}

export interface Catalog {
  project: string;
  target: { name: string; type: string };
  generated_at: string;
  fsql_version: string;
  /** each profile output: compiled (its SQL is in views[].sql) or why not */
  targets: { name: string; type: string | null; error?: string }[];
  /** what the site lacks and why (no run yet, warehouse not reached, no statistics table) */
  notes: string[];
  sources: { key: string; relation: string; description: string; timestamp: string | null; freshness?: { level: string; newest: string | null; age_seconds: number | null } }[];
  entities: { name: string; join_keys: string[]; description: string }[];
  request_sources: { name: string; description: string; fields: { name: string; type: string }[] }[];
  views: CatalogView[];
  services: { name: string; description: string; online: boolean; features: { view: string; features: string[] }[] }[];
}

export interface CatalogInputs {
  project: Project;
  manifest: Manifest;
  /** target name -> view name -> compiled SQL */
  sqlByTarget: Map<string, Map<string, string>>;
  targets: Catalog['targets'];
  run?: { generated_at: string; results: ViewResult[] };
  freshness?: FreshnessReport;
  /** `view\u0000feature` -> statistics */
  stats?: Map<string, FeatureStats>;
  notes: string[];
}

export const statsKey = (view: string, feature: string) => `${view}\u0000${feature}`;

export function buildCatalog(i: CatalogInputs): Catalog {
  const m = i.manifest;
  const runs = new Map((i.run?.results ?? []).map((r) => [r.name, r]));
  const fresh = new Map((i.freshness?.views ?? []).map((v) => [v.view, v]));
  const sourceFresh = new Map((i.freshness?.sources ?? []).map((s) => [s.source, s]));
  const views: CatalogView[] = Object.values(m.views).map((v) => {
    const run = runs.get(v.name);
    const types = new Map((run?.columns ?? []).map((c) => [c.name.toLowerCase(), c.type]));
    const docs = new Map(v.column_docs.map((d) => [d.name.toLowerCase(), d]));
    const aggs = new Map((v.aggregations ?? []).map((a) => [a.name, `${a.function}${a.n !== undefined ? `(${a.n})` : ''}(${a.column}) over ${a.window}`]));
    // an aggregate view's run records its input columns: each feature's type follows from its function
    for (const f of i.project.views.get(v.name)?.config.aggregate?.features ?? []) {
      const input = types.get(f.column.toLowerCase());
      if (input === undefined && f.column !== '*') continue;
      types.set(f.name.toLowerCase(), typeName(featureType(f, input as Parameters<typeof featureType>[1])));
    }
    const f = fresh.get(v.name);
    return {
      name: v.name,
      kind: 'feature_view',
      file: v.file,
      description: v.config.description,
      owner: v.config.owner,
      tags: v.config.tags,
      entities: v.config.entities,
      join_keys: v.join_keys,
      timestamp: v.config.timestamp,
      ttl_seconds: v.config.ttlSeconds ?? null,
      materialized: v.config.materialized,
      online: v.config.online,
      relation: v.relation,
      inputs: [...v.depends_on.sources.map((s) => `source:${s}`), ...v.depends_on.views.map((d) => `view:${d}`)],
      features: (v.features ?? []).map((name) => {
        const doc = docs.get(name.toLowerCase());
        const stats = i.stats?.get(statsKey(v.name, name));
        return {
          name,
          type: types.get(name.toLowerCase()) ?? null,
          description: doc?.description ?? '',
          tags: doc?.tags ?? [],
          tests: (doc?.tests ?? []).map((t) => (Object.keys(t.args).length > 0 ? `${t.name} ${JSON.stringify(t.args)}` : t.name)),
          ...(aggs.has(name) ? { aggregation: aggs.get(name) } : {}),
          ...(stats ? { stats } : {}),
        };
      }),
      sql: Object.fromEntries([...i.sqlByTarget].flatMap(([target, sqls]) => (sqls.has(v.name) ? [[target, sqls.get(v.name)!]] : []))),
      ...(run ? { run: { status: run.status, execution_time: run.execution_time, message: run.message, kind: run.kind, generated_at: i.run!.generated_at } } : {}),
      ...(f
        ? { freshness: { level: f.level, status: f.status, newest_offline: f.newestOffline?.toISOString() ?? null, watermark: f.watermark?.toISOString() ?? null, age_seconds: f.ageSeconds ?? null } }
        : {}),
    };
  });
  const onDemand: CatalogView[] = Object.values(m.on_demand_views).map((v) => ({
    name: v.name,
    kind: 'on_demand',
    file: v.file,
    description: v.description,
    owner: v.owner,
    tags: v.tags,
    entities: [],
    join_keys: [],
    timestamp: null,
    ttl_seconds: null,
    materialized: 'on_demand',
    online: true,
    relation: null,
    inputs: v.inputs.map((name) => (m.request_sources[name] ? `request:${name}` : `view:${name}`)),
    features: v.features.map((name) => ({ name, type: v.types[name] ?? null, description: '', tags: [], tests: [] })),
    sql: {},
  }));
  return {
    project: m.metadata.project,
    target: { name: m.metadata.target, type: m.metadata.dialect },
    generated_at: m.metadata.generated_at,
    fsql_version: m.metadata.fsql_version,
    targets: i.targets,
    notes: i.notes,
    sources: Object.entries(m.sources).map(([key, s]) => {
      const f = sourceFresh.get(key);
      return {
        key,
        relation: s.relation,
        description: s.description,
        timestamp: s.timestamp ?? null,
        ...(f ? { freshness: { level: f.level, newest: f.newest?.toISOString() ?? null, age_seconds: f.ageSeconds ?? null } } : {}),
      };
    }),
    entities: Object.entries(m.entities).map(([name, e]) => ({ name, join_keys: e.join_keys, description: e.description })),
    request_sources: Object.entries(m.request_sources).map(([name, r]) => ({ name, description: r.description, fields: r.fields.map((f) => ({ name: f.name, type: String(f.type) })) })),
    views: [...views, ...onDemand].sort((a, b) => a.name.localeCompare(b.name)),
    services: Object.entries(m.services).map(([name, s]) => ({
      name,
      description: s.description,
      online: s.online,
      features: s.features.map((f) => ({ view: f.view, features: f.features ?? [] })),
    })),
  };
}
