/** `fsql run`: builds the selected feature views' offline tables in DAG order. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { compileProject, type Compilation } from '../compiler/compile.js';
import { FSQL_VERSION } from '../version.js';
import { selectViews } from '../compiler/select.js';
import { pointAtSource } from '../compiler/source-lines.js';
import { checkSourceFiles } from './source-files.js';
import { FsqlError } from '../errors.js';
import type { Logger } from '../log.js';
import { renderMaterialize } from '../dialects/materialize.js';
import { renderNewest } from '../dialects/queries.js';
import type { MaterializePlan, TableStorage } from '../plans/materialize.js';
import type { RelationName } from '../plans/relation.js';
import type { Project, ViewDef } from '../project/types.js';
import { Timestamp, typeName, type Column } from '../values.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { renderFullBuild, renderIncrementalRun } from '../dialects/aggregate-tiles.js';
import { PER_ROW_BELOW } from '../plans/aggregate.js';
import { aggregatePlan, builtKind, findBuilt, runAggregate } from './run-aggregate.js';
import { featureStatsPlan, recordFeatureStats, statsTableOf, type StatsRun, type StatsTable } from './feature-stats.js';

export interface RunOptions {
  select?: string[];
  exclude?: string[];
  fullRefresh?: boolean;
  start?: Timestamp;
  end?: Timestamp;
  threads?: number;
  dryRun?: boolean;
  /** the project compiled by the caller (else compiled here) */
  compilation?: Compilation;
  /** the views `state:modified` selects (read from the applied state by the caller) */
  modified?: ReadonlySet<string>;
  /** after a view builds (`fsql build`: its tests): a message fails the view, and its descendants are skipped */
  afterBuild?: (view: string, c: Compilation) => Promise<string | undefined>;
  /** the time feature statistics are recorded at (tests inject one; default: now) */
  clock?: () => Timestamp;
}

export type ViewStatus = 'success' | 'error' | 'skipped';

export interface ViewResult {
  unique_id: string;
  name: string;
  status: ViewStatus;
  kind?: MaterializePlan['kind'];
  range?: { start: string | null; end: string | null };
  execution_time: number;
  message: string;
  columns?: { name: string; type: string }[];
  /** seconds of execution_time spent recording the feature statistics */
  stats_time?: number;
  /** problems that did not fail the view (its feature statistics could not be recorded) */
  warnings?: string[];
}

export interface RunResults {
  metadata: { fsql_version: string; generated_at: string; invocation_id: string; target: string };
  elapsed_time: number;
  args: Record<string, unknown>;
  results: ViewResult[];
}

/** Prints the statements each selected view would run; connects to nothing. */
export async function planRun(project: Project, opts: RunOptions): Promise<string[]> {
  const c = await compileProject(project);
  return selectViews(project.views, c.dag, opts.select, opts.exclude).map((name) => {
    const view = project.views.get(name)!;
    if (view.config.aggregate) {
      const range = !opts.fullRefresh && opts.start !== undefined ? { start: opts.start, end: opts.end } : undefined;
      const d = c.renderer.dialect;
      const plan = aggregatePlan(c, view, range);
      const script = (statements: string[]) => statements.map((s) => `${s};`).join('\n');
      // the per-tile relations' kind is chosen from the data (run-aggregate.ts: a count of rows per tile), which a dry run does not read
      const kind = `per-tile tables shown; views of the events instead where a full build finds under ${PER_ROW_BELOW} rows per tile`;
      if (range) return `-- ${view.name}: aggregate incremental (${kind})\n${d.transactionScript(renderIncrementalRun(plan, d).statements)}\n`;
      const build = renderFullBuild(plan, [], d);
      return `-- ${view.name}: aggregate full build (${kind}; pass --start to see the incremental statements)\n${script([...build.before, ...build.perTile(false)])}\n`;
    }
    const incremental = view.config.materialized === 'incremental' && !opts.fullRefresh && opts.start !== undefined;
    const plan = planFor(c, view, incremental ? { start: opts.start, end: opts.end } : undefined);
    const { statements, atomic } = renderMaterialize(plan, c.renderer.dialect);
    const note = view.config.materialized === 'incremental' && !incremental ? ' (incremental: full build shown; pass --start to see the incremental statements)' : '';
    const sql = atomic ? c.renderer.dialect.transactionScript(statements) : statements.map((s: string) => `${s};`).join('\n');
    return `-- ${view.name}: ${plan.kind}${note}\n${sql}\n`;
  });
}

export async function runViews(project: Project, wh: Warehouse, log: Logger, opts: RunOptions = {}): Promise<RunResults> {
  const started = Date.now();
  const c = opts.compilation ?? (await compileProject(project, { write: true }));
  for (const w of c.warnings) log.warn(w);
  const order = selectViews(project.views, c.dag, opts.select, opts.exclude, opts.modified);
  await checkSourceFiles(project, wh, order.flatMap((name) => c.manifest.views[name].depends_on.sources));
  const results = new Map<string, ViewResult>();
  const pending = new Set(order);
  const running = new Map<string, Promise<void>>();
  // fsql_feature_stats is made sure of once per run, by the first view that records statistics
  const tableState: StatsTable = {};
  const threads = Math.max(1, opts.threads ?? project.target.threads);
  const invocationId = randomUUID();

  const ready = (name: string) => c.dag.parents.get(name)!.every((p) => !pending.has(p) && !running.has(p));
  while (pending.size > 0 || running.size > 0) {
    for (const name of [...pending]) {
      if (running.size >= threads) break;
      if (!ready(name)) continue;
      pending.delete(name);
      const failedParent = c.dag.parents.get(name)!.find((p) => results.get(p) && results.get(p)!.status !== 'success');
      if (failedParent) {
        results.set(name, { unique_id: `view.${project.name}.${name}`, name, status: 'skipped', execution_time: 0, message: `skipped: upstream view '${failedParent}' did not build` });
        log.info(`SKIP ${name} (upstream ${failedParent} failed)`);
        continue;
      }
      log.step(`${order.length - pending.size} of ${order.length} START ${name} (${project.views.get(name)!.config.materialized})`);
      const stats = { runId: invocationId, recordedAt: opts.clock?.() ?? Timestamp.fromMillis(Date.now()), table: statsTableOf(wh, project), tableState };
      const job = buildView(c, wh, project.views.get(name)!, opts, stats).then(async (built) => {
        const failed = built.status === 'success' && opts.afterBuild ? await opts.afterBuild(name, c) : undefined;
        const r: ViewResult = failed ? { ...built, status: 'error', message: failed } : built;
        results.set(name, r);
        running.delete(name);
        const done = results.size;
        for (const w of r.warnings ?? []) log.warn(`${name}: ${w}`, { view: name });
        if (r.status === 'success') log.info(`OK   ${name} ${r.kind}${r.range ? ` [${r.range.start ?? '…'} .. ${r.range.end ?? 'now'})` : ''} in ${r.execution_time.toFixed(2)}s`, { view: name, status: r.status });
        else log.error(`FAIL ${name}: ${r.message}`, { view: name, status: r.status });
        log.progress(`${done} of ${order.length} views done, ${((Date.now() - started) / 1000).toFixed(1)}s`);
      });
      running.set(name, job);
    }
    if (running.size > 0) await Promise.race(running.values());
  }
  log.endProgress();
  const out: RunResults = {
    metadata: { fsql_version: FSQL_VERSION, generated_at: new Date().toISOString(), invocation_id: invocationId, target: project.target.name },
    elapsed_time: (Date.now() - started) / 1000,
    args: { select: opts.select ?? [], exclude: opts.exclude ?? [], full_refresh: Boolean(opts.fullRefresh), start: opts.start?.toISOString() ?? null, end: opts.end?.toISOString() ?? null },
    results: order.map((n) => results.get(n)!),
  };
  mkdirSync(project.targetPath, { recursive: true });
  writeFileSync(join(project.targetPath, 'run_results.json'), JSON.stringify(out, null, 2) + '\n');
  return out;
}

function planFor(c: Compilation, view: ViewDef, range: MaterializePlan['range']): MaterializePlan {
  const kind = view.config.materialized === 'view' ? 'view' : range ? 'incremental' : 'table';
  const select = range ? c.renderer.render({ view, incremental: range }).sql : c.manifest.views[view.name].compiled_sql;
  return { view: view.name, table: c.manifest.views[view.name].table, kind, select, timestamp: view.config.timestamp, storage: storageOf(view), range };
}

/** The table layout from the view's config and keys (plans/materialize.ts TableStorage). */
function storageOf(view: ViewDef): TableStorage {
  const c = view.config;
  return {
    lookupKey: [...view.joinKeys, c.timestamp],
    partition: c.partitionBy === undefined ? { field: c.timestamp, granularity: 'day' } : c.partitionBy,
    cluster: c.clusterBy ?? view.joinKeys,
    clusterConfigured: c.clusterBy !== undefined,
  };
}

async function buildView(c: Compilation, wh: Warehouse, view: ViewDef, opts: RunOptions, stats: StatsRun & { table: RelationName; tableState: StatsTable }): Promise<ViewResult> {
  const t0 = Date.now();
  const base = { unique_id: `view.${c.manifest.metadata.project}.${view.name}`, name: view.name };
  try {
    const unbound = c.bindErrors.get(view.name);
    if (unbound) throw new FsqlError(unbound);
    if (view.config.aggregate) return { ...base, ...(await buildAggregate(c, wh, view, opts)), execution_time: (Date.now() - t0) / 1000 };
    const relation = c.manifest.views[view.name].table;
    let range: MaterializePlan['range'];
    const existing = view.config.materialized === 'incremental' && !opts.fullRefresh ? await wh.describe(relation) : undefined;
    if (existing) {
      checkSameColumns(view, existing, c.manifest.views[view.name].columns);
      range = await incrementalRange(c, wh, view, opts);
    }
    const plan = planFor(c, view, range);
    const { statements, atomic } = renderMaterialize(plan, wh.dialect);
    await wh.execute(statements, { atomic, label: view.file });
    const columns = (await wh.describe(relation)) ?? [];
    checkBuiltColumns(view, columns);
    // statistics of the rows just built (a SQL view has none of its own); the table stands if they fail
    const t1 = Date.now();
    const warning = plan.kind === 'view' ? undefined : await recordFeatureStats(wh, featureStatsPlan(view, relation, columns, range, stats, stats.table), view.file, stats.tableState);
    const statsTime = (Date.now() - t1) / 1000;
    return {
      ...base,
      status: 'success',
      kind: plan.kind,
      range: range ? { start: range.start?.toISOString() ?? null, end: range.end?.toISOString() ?? null } : undefined,
      execution_time: (Date.now() - t0) / 1000,
      message: 'OK',
      columns: columns.map((col) => ({ name: col.name, type: typeName(col.type) })),
      ...(plan.kind === 'view' ? {} : { stats_time: statsTime }),
      ...(warning ? { warnings: [warning] } : {}),
    };
  } catch (e) {
    if (!(e instanceof FsqlError)) throw e;
    const { sql, sourceLines } = c.renderer.render({ view });
    return { ...base, status: 'error', execution_time: (Date.now() - t0) / 1000, message: pointAtSource(e.message, view.file, sql, sourceLines) };
  }
}

/** An aggregate view's events and tiles: incremental when every relation is there with today's layout. */
async function buildAggregate(c: Compilation, wh: Warehouse, view: ViewDef, opts: RunOptions): Promise<Omit<ViewResult, 'unique_id' | 'name' | 'execution_time'>> {
  const full = aggregatePlan(c, view, undefined);
  const built = await findBuilt(wh, full.tables);
  const perRow = opts.fullRefresh ? undefined : builtKind(full, built);
  const range = perRow === undefined ? undefined : await incrementalRange(c, wh, view, opts);
  await runAggregate(wh, range ? { ...aggregatePlan(c, view, range), perRow } : full, built, view.file);
  const columns = (await wh.describe(full.tables.events)) ?? [];
  checkBuiltColumns(view, columns);
  return {
    status: 'success',
    kind: range ? 'incremental' : 'table',
    range: range ? { start: range.start?.toISOString() ?? null, end: range.end?.toISOString() ?? null } : undefined,
    message: 'OK',
    columns: columns.map((col) => ({ name: col.name, type: typeName(col.type) })),
  };
}

/** From the newest loaded timestamp minus the lookback (or --start) to --end or open. */
async function incrementalRange(c: Compilation, wh: Warehouse, view: ViewDef, opts: RunOptions): Promise<MaterializePlan['range']> {
  if (opts.start) return { start: opts.start, end: opts.end };
  const [row] = await wh.query(renderNewest(wh.dialect, c.manifest.views[view.name].table, view.config.timestamp), { label: view.file });
  const newest = row ? Object.values(row)[0] : null;
  if (!(newest instanceof Timestamp)) return undefined;
  return { start: newest.plusSeconds(-view.config.lookbackSeconds), end: opts.end };
}

/**
 * BigQuery's MERGE and Snowflake's INSERT write columns by position: an incremental run on a
 * table whose columns differ from the SELECT's would put values in the wrong columns.
 */
function checkSameColumns(view: ViewDef, existing: Column[], selected: string[] | null): void {
  if (!selected) return;
  const have = existing.map((col) => col.name.toLowerCase()).join(', ');
  const want = selected.map((col) => col.toLowerCase()).join(', ');
  if (have !== want) {
    throw new FsqlError(`${view.file}: the SELECT's columns (${want}) differ from the existing table's (${have}); run with --full-refresh --select ${view.name} to rebuild it.`);
  }
}

function checkBuiltColumns(view: ViewDef, columns: Column[]): void {
  const have = new Set(columns.map((col) => col.name.toLowerCase()));
  const missing = [...view.joinKeys, view.config.timestamp].filter((k) => !have.has(k.toLowerCase()));
  if (missing.length > 0) {
    throw new FsqlError(`${view.file}: the built table lacks ${missing.join(', ')}; select the view's join keys and timestamp column.`);
  }
  const ts = columns.find((col) => col.name.toLowerCase() === view.config.timestamp.toLowerCase());
  if (ts && ts.type.type !== 'timestamp') {
    throw new FsqlError(`${view.file}: timestamp column '${view.config.timestamp}' is ${typeName(ts.type)}, not a timestamp; cast it (cast_as(x, 'timestamp')).`);
  }
}
