/** Renders every feature view for the target's dialect, checks it, and builds the Manifest. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { CompileError } from '../errors.js';
import { dialectFor } from '../dialects/index.js';
import { rowKey, type Project, type ViewConfig, type ViewDef } from '../project/types.js';
import { Dag } from './dag.js';
import type { Dialect } from '../dialects/dialect.js';
import type { RelationName } from '../plans/relation.js';
import { DuckDbParser, referenceParse } from './sql-check.js';
import { parseForeignAll } from './foreign-parse.js';
import { sourceLine, TemplateRenderer, type Rendered } from './template.js';
import { FSQL_VERSION } from '../version.js';
import type { ExprType } from '../expressions/tree.js';
import { compileOnDemandViews, onDemandFeatures, type CompiledOnDemandView } from './on-demand.js';
import { describeFeature, inputColumns } from '../plans/aggregate.js';

export interface CompiledView {
  name: string;
  file: string;
  relation: string;
  table: RelationName;
  config: ViewConfig;
  join_keys: string[];
  /** output columns read statically from the SELECT; null when they are known only after a run */
  columns: string[] | null;
  /** columns other than join keys and timestamps; null when the columns are not known statically */
  features: string[] | null;
  depends_on: { views: string[]; sources: string[] };
  compiled_path: string;
  compiled_sql: string;
  column_docs: ViewDef['columns'];
  /** aggregate views: each feature's function, window and input column (SPEC section 9) */
  aggregations?: ReturnType<typeof describeFeature>[];
}

export interface Manifest {
  metadata: { fsql_version: string; generated_at: string; project: string; target: string; dialect: string };
  views: Record<string, CompiledView>;
  services: Record<string, { description: string; online: boolean; features: { view: string; features: string[] | null }[] }>;
  entities: Record<string, { join_keys: string[]; description: string }>;
  sources: Record<string, { relation: string; timestamp?: string; description: string }>;
  request_sources: Record<string, { fields: { name: string; type: ExprType }[]; description: string }>;
  on_demand_views: Record<string, CompiledOnDemandView>;
}

export interface Compilation {
  manifest: Manifest;
  dag: Dag;
  renderer: TemplateRenderer;
  warnings: string[];
  /** views DuckDB's binder rejects (an unknown column, a type that does not fit): view -> message with file and line */
  bindErrors: Map<string, string>;
}


export function featuresOf(view: Pick<ViewDef, 'joinKeys' | 'config'>, columns: string[]): string[] {
  if (view.config.aggregate) return view.config.aggregate.features.map((f) => f.name);
  const reserved = new Set(rowKey(view).map((c) => c.toLowerCase()));
  return columns.filter((c) => !reserved.has(c.toLowerCase()));
}

/** Each feature view's SQL for the project's target, rendered without compile's checks (the docs site's SQL of the other targets). */
export function renderViewSql(project: Project): Map<string, string> {
  const renderer = new TemplateRenderer(project, dialectFor(project.target.type));
  return new Map([...project.views.values()].map((view) => [view.name, renderer.render({ view }).sql]));
}

/** Compiles the whole project; `write` puts compiled SQL and manifest.json under target/. */
export async function compileProject(project: Project, opts: { strict?: boolean; write?: boolean } = {}): Promise<Compilation> {
  const dialect = dialectFor(project.target.type);
  const renderer = new TemplateRenderer(project, dialect);
  const rendered = [...project.views.values()].map((view) => renderer.render({ view }));
  const duck = dialect.sqlGrammar === 'duckdb' ? await DuckDbParser.open() : undefined;
  try {
    return await compileWith(project, opts, dialect, renderer, rendered, duck);
  } finally {
    duck?.close();
  }
}

async function compileWith(project: Project, opts: { strict?: boolean; write?: boolean }, dialect: Dialect, renderer: TemplateRenderer, rendered: Rendered[], duck: DuckDbParser | undefined): Promise<Compilation> {
  const warnings: string[] = [];
  const views: Record<string, CompiledView> = {};
  const defs = [...project.views.values()];
  const sqls = rendered.map((r) => r.sql);
  const parsed = duck ? await duck.parseAll(sqls) : await parseForeignAll(sqls, dialect.sqlGrammar);
  // --strict: the warehouse's own grammar where it can run here (BigQuery's, on ZetaSQL) is the judge
  const reference = opts.strict ? await referenceParse(dialect.sqlGrammar, defs.map((v, i) => ({ sql: rendered[i].sql, file: v.file, lineOffset: 0 }))) : undefined;
  if (reference && reference.problems.length > 0) {
    const index = new Map(defs.map((v, i) => [v.file, i]));
    const at = (file: string | undefined, line: number) => sourceLine(rendered[index.get(file ?? '')!], line);
    throw new CompileError(reference.problems.map((p) => `${p.file}${p.line ? `:${at(p.file, p.line)}` : ''}: ${reference.parser} rejects the compiled SQL: ${p.message}`).join('\n'));
  }
  defs.forEach((view, i) => {
    const compiledPath = join(relative(project.dir, project.targetPath), 'compiled', project.target.name, view.file);
    const { error, columns } = parsed[i];
    if (error) {
      const where = `${view.file}${error.line ? `:${sourceLine(rendered[i], error.line)}` : ''}`;
      if (dialect.sqlGrammar === 'duckdb') throw new CompileError(`${where}: DuckDB's parser rejects the compiled SQL (${compiledPath}): ${error.message}. Fix the SELECT.`);
      const msg = `${where}: node-sql-parser (${dialect.sqlGrammar}) cannot parse the compiled SQL: ${error.message}`;
      if (opts.strict && !reference) throw new CompileError(`${msg}. (--strict turns this warning into an error.)`);
      warnings.push(reference ? `${msg} (${reference.parser} accepts it)` : msg);
    }
    if (columns) checkColumns(view, columns);
    views[view.name] = {
      name: view.name,
      file: view.file,
      relation: renderer.relationOf(view.name),
      table: renderer.tableOf(view.name),
      config: view.config,
      join_keys: view.joinKeys,
      columns: columns ?? null,
      features: columns || view.config.aggregate ? featuresOf(view, columns ?? []) : null,
      depends_on: { views: rendered[i].refs.sort(), sources: rendered[i].sources.sort() },
      compiled_path: compiledPath,
      compiled_sql: rendered[i].sql,
      column_docs: view.columns,
      ...(view.config.aggregate ? { aggregations: view.config.aggregate.features.map(describeFeature) } : {}),
    };
  });
  const dag = new Dag(new Map(Object.values(views).map((v) => [v.name, v.depends_on.views])));
  const bindErrors = duck ? await bindViews(duck, project, views, dag, new Map(defs.map((v, i) => [v.name, rendered[i]]))) : new Map<string, string>();
  const manifest: Manifest = {
    metadata: { fsql_version: FSQL_VERSION, generated_at: new Date().toISOString(), project: project.name, target: project.target.name, dialect: dialect.name },
    views,
    services: Object.fromEntries(
      [...project.services.values()].map((s) => [s.name, { description: s.description, online: s.online, features: s.features.map((f) => ({ view: f.view, features: f.features ?? views[f.view]?.features ?? onDemandFeatures(project, f.view) })) }]),
    ),
    entities: Object.fromEntries([...project.entities.values()].map((e) => [e.name, { join_keys: e.joinKeys, description: e.description }])),
    sources: Object.fromEntries(
      [...project.sources.entries()].map(([k, s]) => [k, { relation: renderer.sourceRelation(s), timestamp: s.timestamp, description: s.description }]),
    ),
    request_sources: {},
    on_demand_views: compileOnDemandViews(project, views),
  };
  checkServices(project, manifest);
  manifest.request_sources = Object.fromEntries([...project.requestSources.values()].map((r) => [r.name, { fields: r.fields, description: r.description }]));
  if (opts.write) writeManifest(project, manifest);
  return { manifest, dag, renderer, warnings, bindErrors };
}

/**
 * On DuckDB, every view bound against the columns of its sources' files and the views before it,
 * so an unknown column shows at compile (an error there) and fails its view at run before anything
 * is sent.
 */
async function bindViews(duck: DuckDbParser, project: Project, views: Record<string, CompiledView>, dag: Dag, rendered: Map<string, Rendered>): Promise<Map<string, string>> {
  const order = dag.order();
  const files = [...project.sources.values()].flatMap((s) => (s.path ? [s.path] : []));
  const errors = await duck.bindViews(
    order.map((name) => ({ schema: views[name].table.schema ?? project.target.schema, relation: views[name].relation, sql: views[name].compiled_sql })),
    files,
  );
  return new Map(
    order.flatMap((name, i): [string, string][] => {
      const e = errors[i];
      if (!e) return [];
      const r = rendered.get(name)!;
      const line = e.line === undefined ? '' : `:${sourceLine(r, e.line)}`;
      return [[name, `${views[name].file}${line}: DuckDB cannot bind the SELECT: ${e.message}`]];
    }),
  );
}

function checkColumns(view: ViewDef, columns: string[]): void {
  const have = new Set(columns.map((c) => c.toLowerCase()));
  const required = rowKey(view);
  const missing = required.filter((c) => !have.has(c.toLowerCase()));
  if (view.config.aggregate) {
    const inputs = inputColumns(view.config.aggregate).filter((c) => !have.has(c.toLowerCase()));
    if (missing.length + inputs.length > 0) {
      throw new CompileError(
        `${view.file}: the aggregate view's SELECT lacks ${[...missing, ...inputs].map((m) => `'${m}'`).join(', ')}: it projects the events, with the join keys (${view.joinKeys.join(', ')}), the event time '${view.config.timestamp}' and every column the aggregations read. Output columns: ${columns.join(', ')}.`,
      );
    }
    const clash = view.config.aggregate.features.find((f) => [...view.joinKeys, view.config.timestamp].some((k) => k.toLowerCase() === f.name.toLowerCase()));
    if (clash) throw new CompileError(`${view.file}: aggregate feature '${clash.name}' has the name of a join key or the timestamp; give it another name=.`);
    return;
  }
  if (missing.length > 0) {
    throw new CompileError(
      `${view.file}: the SELECT lacks ${missing.map((m) => `'${m}'`).join(', ')} (join keys ${view.joinKeys.join(', ')} of entities ${view.config.entities.join(', ')}; timestamp '${view.config.timestamp}'). Output columns: ${columns.join(', ')}. Select them, or alias a column to that name.`,
    );
  }
  for (const doc of view.columns) {
    if (!have.has(doc.name.toLowerCase())) {
      throw new CompileError(`${view.docFile}: feature_views '${view.name}' documents column '${doc.name}', which the SELECT in ${view.file} does not output. Columns: ${columns.join(', ')}.`);
    }
  }
  if (featuresOf(view, columns).length === 0) throw new CompileError(`${view.file}: the view outputs no feature columns besides its join keys and timestamps.`);
}

function checkServices(project: Project, manifest: Manifest): void {
  for (const service of project.services.values()) {
    for (const ref of service.features) {
      const known = (manifest.views[ref.view] ?? manifest.on_demand_views[ref.view]).features;
      if (!ref.features || !known) continue;
      for (const f of ref.features) {
        if (!known.includes(f)) {
          throw new CompileError(`${service.file}${ref.line ? `:${ref.line}` : ''}: feature service '${service.name}' names feature '${f}' that view '${ref.view}' does not have. Its features: ${known.join(', ')}.`);
        }
      }
    }
  }
}

export function writeManifest(project: Project, manifest: Manifest): void {
  for (const v of Object.values(manifest.views)) {
    const out = join(project.dir, v.compiled_path);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, v.compiled_sql);
  }
  mkdirSync(project.targetPath, { recursive: true });
  writeFileSync(join(project.targetPath, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
}
