/** Reads sources, entities, feature_views and feature_services from the YAML files under model-paths. */
import type { ColumnDoc, ColumnTest, Entity, Freshness, MonitorConfig, RequestSource, ServiceDef, ServiceFeatureRef, ServiceLogging, SourceTable } from './types.js';
import { readRequestSource } from './request-sources.js';
import { expectDuration, expectKeys, expectList, expectMapping, expectName, expectString, expectStringList, isMapping, type Path } from './checks.js';
import type { YamlFile } from './yaml-file.js';
import { ProjectError } from '../errors.js';
import type { AggregateSpec } from '../plans/aggregate.js';
import { readAggregations } from './aggregate-config.js';
import { readMonitors } from './monitors.js';
import { isAbsolute, resolve } from 'node:path';

const TOP_KEYS = ['version', 'sources', 'entities', 'feature_views', 'feature_services', 'request_sources'];
const SOURCE_KEYS = ['name', 'schema', 'database', 'description', 'tables'];
const TABLE_KEYS = ['name', 'identifier', 'path', 'timestamp', 'loaded_at_field', 'freshness', 'description', 'columns'];
const ENTITY_KEYS = ['name', 'join_keys', 'description'];
const VIEW_DOC_KEYS = ['name', 'description', 'columns', 'materialized', 'tile', 'sync_horizon', 'aggregations', 'monitors', 'push'];
const AGG_KEYS = ['column', 'function', 'functions', 'windows', 'n', 'name'];
const COLUMN_KEYS = ['name', 'description', 'tests', 'tags', 'monitors'];
const SERVICE_KEYS = ['name', 'description', 'features', 'online', 'logging'];
export const COLUMN_TESTS = ['not_null', 'unique', 'accepted_values', 'accepted_range'];

export interface ViewDoc {
  name: string;
  description: string;
  columns: ColumnDoc[];
  /** `materialized: aggregate` with its `aggregations:` (SPEC section 9's YAML form) */
  aggregate?: AggregateSpec;
  monitors?: MonitorConfig;
  /** `push: true`: /push accepts rows for the view */
  push?: boolean;
  file: string;
  line?: number;
}

export interface ModelYaml {
  sources: SourceTable[];
  entities: Entity[];
  viewDocs: ViewDoc[];
  services: ServiceDef[];
  requestSources: RequestSource[];
}

export function readModelYaml(y: YamlFile, projectDir: string): ModelYaml {
  const out: ModelYaml = { sources: [], entities: [], viewDocs: [], services: [], requestSources: [] };
  if (y.value === null || y.value === undefined) return out;
  const doc = expectMapping(y, [], y.value, 'a model YAML file');
  expectKeys(y, [], doc, TOP_KEYS, 'a model YAML file');
  expectList(y, ['sources'], doc.sources, 'sources').forEach((s, i) => out.sources.push(...readSource(y, ['sources', i], s, projectDir)));
  expectList(y, ['entities'], doc.entities, 'entities').forEach((e, i) => out.entities.push(readEntity(y, ['entities', i], e)));
  expectList(y, ['feature_views'], doc.feature_views, 'feature_views').forEach((v, i) => out.viewDocs.push(readViewDoc(y, ['feature_views', i], v)));
  expectList(y, ['feature_services'], doc.feature_services, 'feature_services').forEach((s, i) => out.services.push(readService(y, ['feature_services', i], s)));
  expectList(y, ['request_sources'], doc.request_sources, 'request_sources').forEach((r, i) => out.requestSources.push(readRequestSource(y, ['request_sources', i], r)));
  return out;
}

function readSource(y: YamlFile, path: Path, v: unknown, projectDir: string): SourceTable[] {
  const m = expectMapping(y, path, v, 'a source');
  expectKeys(y, path, m, SOURCE_KEYS, 'a source');
  const source = expectName(y, [...path, 'name'], m.name, 'source name');
  return expectList(y, [...path, 'tables'], m.tables, `tables of source '${source}'`).map((t, i) => {
    const tp = [...path, 'tables', i];
    const tm = expectMapping(y, tp, t, 'a source table');
    expectKeys(y, tp, tm, TABLE_KEYS, `table of source '${source}'`);
    const name = expectName(y, [...tp, 'name'], tm.name, 'table name');
    const p = expectString(y, [...tp, 'path'], tm.path, 'path');
    const timestamp = expectString(y, [...tp, 'timestamp'], tm.timestamp, 'timestamp');
    const loadedAtField = expectString(y, [...tp, 'loaded_at_field'], tm.loaded_at_field, 'loaded_at_field');
    const freshness = tm.freshness === undefined ? undefined : readFreshness(y, [...tp, 'freshness'], tm.freshness);
    if (freshness && !timestamp && !loadedAtField) {
      throw y.error([...tp, 'freshness'], `freshness of source table '${source}.${name}' needs a time to measure: add timestamp: or loaded_at_field: (the column with each row's load time).`);
    }
    return {
      source,
      name,
      identifier: expectString(y, [...tp, 'identifier'], tm.identifier, 'identifier') ?? name,
      schema: expectString(y, [...path, 'schema'], m.schema, 'schema'),
      database: expectString(y, [...path, 'database'], m.database, 'database'),
      path: p === undefined ? undefined : isAbsolute(p) ? p : resolve(projectDir, p),
      timestamp,
      loadedAtField,
      freshness,
      description: expectString(y, [...tp, 'description'], tm.description, 'description') ?? '',
      file: y.file,
      line: y.line(tp),
    };
  });
}

/** dbt's `freshness: {warn_after: 12h, error_after: 1d}` (either may be left out). */
function readFreshness(y: YamlFile, path: Path, v: unknown): Freshness {
  const f = expectMapping(y, path, v, 'freshness');
  expectKeys(y, path, f, ['warn_after', 'error_after'], 'freshness');
  return {
    warnAfterSeconds: expectDuration(y, [...path, 'warn_after'], f.warn_after, 'warn_after'),
    errorAfterSeconds: expectDuration(y, [...path, 'error_after'], f.error_after, 'error_after'),
  };
}

function readEntity(y: YamlFile, path: Path, v: unknown): Entity {
  const m = expectMapping(y, path, v, 'an entity');
  expectKeys(y, path, m, ENTITY_KEYS, 'an entity');
  const name = expectName(y, [...path, 'name'], m.name, 'entity name');
  const joinKeys = expectStringList(y, [...path, 'join_keys'], m.join_keys, 'join_keys');
  if (joinKeys.length === 0) throw y.error(path, `entity '${name}' needs join_keys: [column, ...].`);
  return { name, joinKeys, description: expectString(y, [...path, 'description'], m.description, 'description') ?? '', file: y.file, line: y.line(path) };
}

function readViewDoc(y: YamlFile, path: Path, v: unknown): ViewDoc {
  const m = expectMapping(y, path, v, 'a feature_views entry');
  expectKeys(y, path, m, VIEW_DOC_KEYS, 'a feature_views entry');
  const name = expectName(y, [...path, 'name'], m.name, 'feature view name');
  const columns = expectList(y, [...path, 'columns'], m.columns, 'columns').map((c, i) => readColumn(y, [...path, 'columns', i], c));
  const monitors = m.monitors === undefined ? undefined : readMonitors(y, [...path, 'monitors'], m.monitors);
  if (m.push !== undefined && typeof m.push !== 'boolean') throw y.error([...path, 'push'], `'push' of feature view '${name}' must be true or false (true: /push accepts rows for it).`);
  return { name, description: expectString(y, [...path, 'description'], m.description, 'description') ?? '', columns, aggregate: readViewAggregate(y, path, m, name), monitors, ...(m.push ? { push: true } : {}), file: y.file, line: y.line(path) };
}

function readViewAggregate(y: YamlFile, path: Path, m: Record<string, unknown>, name: string): AggregateSpec | undefined {
  const materialized = expectString(y, [...path, 'materialized'], m.materialized, 'materialized');
  if (materialized !== undefined && materialized !== 'aggregate') {
    throw y.error([...path, 'materialized'], `a feature_views entry sets materialized only to 'aggregate' (with aggregations:); '${materialized}' goes in the view's config().`);
  }
  if (materialized === undefined) {
    const stray = ['aggregations', 'tile', 'sync_horizon'].find((k) => m[k] !== undefined);
    if (stray) throw y.error([...path, stray], `'${stray}' is for aggregate views; add materialized: aggregate to '${name}' or remove it.`);
    return undefined;
  }
  const list = expectList(y, [...path, 'aggregations'], m.aggregations, 'aggregations').map((a, i) => {
    const am = expectMapping(y, [...path, 'aggregations', i], a, 'an aggregation');
    expectKeys(y, [...path, 'aggregations', i], am, AGG_KEYS, 'an aggregation');
    return { column: am.column, functions: am.functions ?? am.function, windows: am.windows, n: am.n, name: am.name };
  });
  return readAggregations(list, m.tile, (i, detail) => y.error(i === undefined ? [...path, 'aggregations'] : [...path, 'aggregations', i], `feature view '${name}': ${detail}`), m.sync_horizon);
}

function readColumn(y: YamlFile, path: Path, v: unknown): ColumnDoc {
  const m = expectMapping(y, path, v, 'a column');
  expectKeys(y, path, m, COLUMN_KEYS, 'a column');
  const tests = expectList(y, [...path, 'tests'], m.tests, 'tests').map((t, i): ColumnTest => {
    const tp = [...path, 'tests', i];
    const [name, args] = typeof t === 'string' ? [t, {}] : isMapping(t) && Object.keys(t).length === 1 ? [Object.keys(t)[0], Object.values(t)[0]] : ['', {}];
    if (!COLUMN_TESTS.includes(name)) throw y.error(tp, `unknown test '${name || JSON.stringify(t)}'. Tests: ${COLUMN_TESTS.join(', ')}.`);
    if (!isMapping(args)) throw y.error(tp, `arguments of test '${name}' must be a mapping, such as {min: 0}.`);
    return { name, args };
  });
  return {
    name: expectName(y, [...path, 'name'], m.name, 'column name'),
    description: expectString(y, [...path, 'description'], m.description, 'description') ?? '',
    tags: expectStringList(y, [...path, 'tags'], m.tags, 'tags'),
    tests,
    ...(m.monitors === undefined ? {} : { monitors: readMonitors(y, [...path, 'monitors'], m.monitors) }),
  };
}

function readService(y: YamlFile, path: Path, v: unknown): ServiceDef {
  const m = expectMapping(y, path, v, 'a feature service');
  expectKeys(y, path, m, SERVICE_KEYS, 'a feature service');
  const name = expectName(y, [...path, 'name'], m.name, 'feature service name');
  const features = expectList(y, [...path, 'features'], m.features, 'features').map((f, i): ServiceFeatureRef => {
    const fp = [...path, 'features', i];
    if (typeof f === 'string') return { view: f, line: y.line(fp) };
    if (isMapping(f) && Object.keys(f).length === 1) {
      const [view, list] = Object.entries(f)[0];
      return { view, features: expectStringList(y, [...fp, view], list, `features of '${view}'`), line: y.line(fp) };
    }
    throw y.error(fp, 'each feature entry is a view name, or {view: [feature, ...]} for a subset.');
  });
  if (features.length === 0) throw y.error(path, `feature service '${name}' needs features: [view, ...].`);
  const online = m.online === undefined ? true : m.online;
  if (typeof online !== 'boolean') throw y.error([...path, 'online'], "'online' must be true or false.");
  const logging = m.logging === undefined ? undefined : readLogging(y, [...path, 'logging'], m.logging, name);
  return { name, description: expectString(y, [...path, 'description'], m.description, 'description') ?? '', features, online, ...(logging ? { logging } : {}), file: y.file, line: y.line(path) };
}

/** `logging: {sample_rate: 0.1}` of a service (SPEC section 12). */
function readLogging(y: YamlFile, path: Path, v: unknown, service: string): ServiceLogging {
  const m = expectMapping(y, path, v, `logging of feature service '${service}'`);
  expectKeys(y, path, m, ['sample_rate'], `logging of feature service '${service}'`);
  const rate = m.sample_rate;
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate < 0 || rate > 1) {
    throw y.error([...path, 'sample_rate'], `logging.sample_rate of feature service '${service}' must be a number from 0 to 1 (the share of requests logged, such as 0.1), not ${rate === undefined ? 'missing' : JSON.stringify(rate)}.`);
  }
  return { sampleRate: rate };
}

/** Indexes items by name; a second item with the same name is an error naming both places. */
export function indexUnique<T extends { file: string; line?: number }>(items: T[], keyOf: (t: T) => string, what: string): Map<string, T> {
  const map = new Map<string, T>();
  for (const item of items) {
    const key = keyOf(item);
    const first = map.get(key);
    if (first) {
      throw new ProjectError(item.file, `duplicate ${what} '${key}' (also defined at ${first.file}${first.line ? `:${first.line}` : ''}). Names must be unique: rename or remove one.`, item.line);
    }
    map.set(key, item);
  }
  return map;
}
