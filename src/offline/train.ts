/**
 * `fsql train`: a point-in-time correct training table (SPEC section 4) for a feature service.
 * The events are staged in the target warehouse, the join runs there, and the result goes straight
 * to a file or table: rows never pass through JavaScript, except where a non-DuckDB warehouse's
 * rows are streamed chunk by chunk into a local file.
 */
import { compileProject, featuresOf, type Compilation, type CompiledView } from '../compiler/compile.js';
import type { Dialect, PitStrategy } from '../dialects/dialect.js';
import { renderEventTimes, renderPointInTime, strategyFor } from '../dialects/point-in-time.js';
import { renderCount } from '../dialects/queries.js';
import { renderOnDemandTraining } from '../dialects/on-demand-training.js';
import { servedStoredOutputs } from '../plans/on-demand.js';
import { onDemandTraining } from './on-demand-train.js';
import { renderStaging } from '../dialects/staging.js';
import { ProjectError } from '../errors.js';
import type { Logger } from '../log.js';
import { ROW_COLUMN, outputName, planPointInTime, serviceViews, type EventTimes, type PointInTimePlan } from '../plans/point-in-time.js';
import type { Project } from '../project/types.js';
import { Timestamp, type Column, type DataType } from '../values.js';
import { inputColumns, perTileRelations, tileTables } from '../plans/aggregate.js';
import { typeOfFeature } from './feature-types.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import type { TimeRange } from '../plans/relation.js';
import { LOGGED_PREFIX, loggedEvents, type LoggedEvents } from './logged-events.js';
import { checkEventColumns, checkEventKeyTypes, dropStaged, findColumn, parseEventSource, stageEvents, stagingName, type StagedEvents } from './events.js';
import { discardTempFile, outputStatements, parseTrainOutput, type TrainOutput, reserveTempFile, writeTrainOutput } from './train-output.js';

export interface TrainOptions {
  service: string;
  /** SRC: a .csv or .parquet path, table:<name> or sql:<query> */
  events: string;
  /** DST: a .csv or .parquet path or table:<name> */
  out: string;
  /** the event time column; default event_timestamp */
  timestampColumn?: string;
  /** relative paths resolve against this folder (default: the current one) */
  cwd?: string;
  /** the join strategy; default: the target's (ASOF where the warehouse has it) */
  strategy?: PitStrategy;
  /** with `--events logged:<service>`: only requests in this time range */
  range?: TimeRange;
  /** with `--events logged:<service>`: the values served instead of recomputed ones */
  served?: boolean;
}

export interface TrainResult {
  service: string;
  output: string;
  rows: number;
  views: string[];
  /** output column names, event columns first */
  columns: string[];
  /** how the features were found: a point-in-time join, or `served` (read from the feature log) */
  strategy: PitStrategy | 'served';
  elapsed: number;
}

export const DEFAULT_EVENT_TIMESTAMP = 'event_timestamp';

/** The statements `fsql train` would run, as text; connects to nothing. */
export async function planTrain(project: Project, opts: TrainOptions): Promise<string> {
  const c = await compileProject(project);
  const d = c.renderer.dialect;
  serviceViews(c.manifest, opts.service);
  if (opts.events.startsWith(LOGGED_PREFIX)) throw new ProjectError('--dry-run', `--events ${opts.events} reads the logged table's columns from the warehouse, which a dry run does not connect to; run without --dry-run (with --debug to see the SQL).`);
  const source = parseEventSource(d, opts.events, project.target, opts.cwd);
  const out = parseTrainOutput(d, opts.out, project.target, opts.cwd);
  const staged = stagingName(d, project.target, 'dry_run');
  const staging = renderStaging(d, source, staged);
  const timestamp = opts.timestampColumn ?? DEFAULT_EVENT_TIMESTAMP;
  const assumed = [...new Set([...serviceViews(c.manifest, opts.service).flatMap(({ view }) => view.join_keys), timestamp])];
  const plan = planPointInTime({
    manifest: c.manifest,
    service: opts.service,
    events: { table: staged, columns: assumed, timestamp, orderColumn: staging.orderColumn },
    eventTimes: 'dynamic',
  });
  const strategy = opts.strategy ?? strategyFor(d);
  const select = renderPointInTime(plan, d, { strategy, ordered: keepsOrder(d, out) });
  const tmp = out.kind === 'file' ? `${out.path}.fsql-dry-run.tmp` : '';
  const write = outputStatements(d, select, out, tmp);
  const stmt = (s: string) => (s.startsWith('--') ? s : `${s};`);
  return [
    `-- fsql train --service ${opts.service}: target ${project.target.name} (${d.name}), ${strategy} strategy`,
    `-- Event columns are not read in a dry run: join keys are assumed to have the views' names.`,
    `-- 1. stage the events (${source.display})`,
    ...staging.statements.map(stmt),
    ...onDemandNote(c.manifest, opts.service),
    `-- 2. the event time range; a run reads it first and prunes feature rows with literal bounds (here: subqueries)`,
    stmt(renderEventTimes(plan, d)),
    `-- 3. the training table -> ${out.display}${out.kind === 'file' ? (write ? ' (written to a temporary file, then renamed)' : ' (rows streamed into a temporary file, then renamed)') : ''}`,
    ...(write ?? [select]).map(stmt),
    `-- 4. clean up`,
    stmt(dropStaged(d, { table: staged, kind: staging.kind })),
  ].join('\n') + '\n';
}

export async function train(project: Project, wh: Warehouse, log: Logger, opts: TrainOptions): Promise<TrainResult> {
  const t0 = Date.now();
  const d = wh.dialect;
  const c = await compileProject(project);
  const wanted = serviceViews(c.manifest, opts.service);
  const out = parseTrainOutput(d, opts.out, project.target, opts.cwd);
  const logged = opts.events.startsWith(LOGGED_PREFIX) ? await loggedEvents(wh, project, opts.events, opts.range ?? {}, Boolean(opts.served)) : undefined;
  if (opts.served) return trainServed(wh, opts, logged, out, t0);
  if (opts.range && !logged) throw new ProjectError('--start', '--start and --end bound logged requests: use them with --events logged:<service>.');
  const source = logged?.source ?? parseEventSource(d, opts.events, project.target, opts.cwd);
  const tmp = out.kind === 'file' ? reserveTempFile(out) : undefined;
  const staged = stagingName(d, project.target);
  let events: StagedEvents | undefined;
  try {
    log.progress('reading feature tables');
    const tables = new Map<string, Column[]>();
    for (const { view, features } of wanted) tables.set(view.name, await describeView(wh, project, view, features));

    log.progress(`staging events from ${source.display}`);
    const ev = (events = await stageEvents(wh, source, staged));
    const eventColumns = ((await wh.describe(staged)) ?? []).filter((col) => ev.orderColumn || col.name.toLowerCase() !== ROW_COLUMN);
    const tsName = opts.timestampColumn ?? DEFAULT_EVENT_TIMESTAMP;
    const plan = planPointInTime({
      manifest: c.manifest,
      service: opts.service,
      events: { table: ev.table, columns: eventColumns.map((col) => col.name), timestamp: findColumn(eventColumns, tsName)?.name ?? tsName, orderColumn: ev.orderColumn },
      eventColumns: eventColumns.map((col) => col.name),
      featuresOf: (view) => featuresOf(project.views.get(view.name)!, tables.get(view.name)!.map((col) => col.name)),
      typeOf: (view, column) => typeOfFeature(project, view.name, tables.get(view.name)!, column).type,
      eventTimes: 'dynamic',
    });
    checkEventColumns(source.display, eventColumns, tsName, plan.views, ev.orderColumn);
    checkEventKeyTypes(source.display, eventColumns, plan.views, tables);

    log.progress('joining');
    plan.eventTimes = await eventTimes(wh, plan);
    const strategy = opts.strategy ?? strategyFor(d);
    const onDemand = onDemandTraining(project, c.manifest, opts.service, tables, eventColumns, source.display);
    const served = servedStoredOutputs(c.manifest, opts.service);
    const storedColumns = plan.views.flatMap((v) => v.features.filter((f) => served(v.view, f.column)).map((f) => ({ name: f.output, type: typeOfFeature(project, v.view, tables.get(v.view)!, f.column) })));
    const select =
      onDemand.length === 0
        ? renderPointInTime(plan, d, { strategy, ordered: keepsOrder(d, out) })
        : renderOnDemandTraining(renderPointInTime(plan, d, { strategy, ordered: false, keepRow: true }), d, [...eventColumns, ...storedColumns].map((col) => col.name), onDemand, keepsOrder(d, out));
    const [counted] = await wh.query(renderCount(d, ev.table), { label: source.display });
    const outputColumns = (): Column[] => [
      ...eventColumns,
      ...storedColumns,
      ...onDemand.flatMap((o) => o.outputs.map((i) => ({ name: outputName(o.view, o.typed.items[i].name), type: { type: o.typed.items[i].type } }))),
    ];
    await writeTrainOutput(wh, select, out, tmp, outputColumns);
    log.endProgress();
    return {
      service: opts.service,
      output: out.display,
      rows: Number(Object.values(counted ?? {})[0] ?? 0),
      views: plan.views.map((v) => v.view),
      columns: outputColumns().map((col) => col.name),
      strategy,
      elapsed: (Date.now() - t0) / 1000,
    };
  } catch (e) {
    log.endProgress();
    discardTempFile(tmp);
    throw e;
  } finally {
    // A failed staging statement may still have left its table behind.
    const drop = dropStaged(d, events ?? { table: staged, kind: 'table' });
    await wh.execute(drop).catch((e: Error) => log.warn(`could not drop the staged events ${d.relation(staged)}: ${e.message}`));
  }
}

/** `--served`: the logged requests with the values served, straight from the logged table. */
async function trainServed(wh: Warehouse, opts: TrainOptions, logged: LoggedEvents | undefined, out: TrainOutput, t0: number): Promise<TrainResult> {
  if (!logged) throw new ProjectError('--served', `--served outputs what a service served: use it with --events logged:${opts.service}.`);
  if (logged.service !== opts.service) throw new ProjectError('--served', `--events ${opts.events} holds what service '${logged.service}' served, not '${opts.service}': pass --service ${logged.service}, or leave out --served to recompute '${opts.service}' for those requests.`);
  const columns = [...logged.eventColumns, ...logged.features];
  const tmp = out.kind === 'file' ? reserveTempFile(out) : undefined;
  try {
    await writeTrainOutput(wh, logged.query, out, tmp, () => columns);
  } catch (e) {
    discardTempFile(tmp);
    throw e;
  }
  const [counted] = await wh.query(renderCount(wh.dialect, logged.query), { label: opts.events });
  const views = [...new Set(logged.features.map((f) => f.name.slice(0, f.name.indexOf('__'))))];
  return { service: opts.service, output: out.display, rows: Number(Object.values(counted ?? {})[0] ?? 0), views, columns: columns.map((c) => c.name), strategy: 'served', elapsed: (Date.now() - t0) / 1000 };
}

/** The columns of a view's offline table; checks that it exists and has the service's features. */
async function describeView(wh: Warehouse, project: Project, view: CompiledView, features: string[] | null): Promise<Column[]> {
  const t = project.target;
  const columns = await wh.describe(view.table);
  if (!columns) {
    throw new ProjectError(view.file, `feature view '${view.name}' has no offline table ${view.relation} in target '${t.name}'; build it with \`fsql run --select ${view.name}\`.`);
  }
  const have = columns.map((col) => col.name);
  const spec = view.config.aggregate;
  if (spec) {
    // the per-tile relations (the events are the view's table, described above)
    const perTile = perTileRelations(tileTables(spec, view.table));
    const found = await Promise.all(perTile.map((r) => wh.describe(r)));
    const missing = perTile.find((_r, i) => !found[i]);
    if (missing) throw new ProjectError(view.file, `aggregate view '${view.name}' has no tile table ${wh.dialect.relation(missing)}; build it with \`fsql run --select ${view.name}\`.`);
  }
  // An aggregate view's table holds its events; its features are computed from them.
  const needed = view.config.aggregate ? inputColumns(view.config.aggregate) : (features ?? []);
  const missing = [...view.join_keys, view.config.timestamp, ...needed].filter((f) => !findColumn(columns, f));
  if (missing.length > 0) {
    throw new ProjectError(view.file, `the offline table ${view.relation} lacks ${missing.join(', ')} (it has ${have.join(', ')}); rebuild it with \`fsql run --select ${view.name}\`.`);
  }
  return columns;
}

/** The range of event times, read from the staged events. */
async function eventTimes(wh: Warehouse, plan: PointInTimePlan): Promise<EventTimes> {
  const [row] = await wh.query(renderEventTimes(plan, wh.dialect), { label: 'event time range' });
  const [min, max] = Object.values(row ?? {});
  return min instanceof Timestamp && max instanceof Timestamp ? { min, max } : 'empty';
}

/**
 * Whether the output keeps the events' order: a file does; a table only where tables keep their
 * insertion order (DuckDB). Elsewhere the ORDER BY would sort the whole result for nothing.
 */
function keepsOrder(d: Dialect, out: TrainOutput): boolean {
  return out.kind === 'file' || d.insertionOrderColumn !== undefined;
}

/** What a dry run cannot show: on-demand outputs are typed from the built tables' column types. */
function onDemandNote(manifest: Compilation['manifest'], service: string): string[] {
  const views = manifest.services[service].features.filter((f) => manifest.on_demand_views[f.view]).map((f) => f.view);
  if (views.length === 0) return [];
  return [`-- On-demand view(s) ${[...new Set(views)].join(', ')}: computed over step 3's rows (their stored inputs joined there), typed from the built tables' columns, which a dry run does not read.`];
}
