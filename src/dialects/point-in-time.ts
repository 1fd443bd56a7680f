/**
 * Renders a PointInTimePlan as one SELECT. Three strategies; each dialect lists those it runs
 * (Dialect.pitStrategies, the first its default):
 *  - `asof` (DuckDB `ASOF LEFT JOIN`, Snowflake `ASOF JOIN ... MATCH_CONDITION`, each dialect's
 *    Dialect.asofJoin): one ASOF join per view on its feature rows, pruned to the event time range;
 *    ties on (keys, timestamp) settled by created_timestamp; TTL applied after the match.
 *  - `lateral` (PostgreSQL, and DuckDB in tests): one LEFT JOIN LATERAL ... LIMIT 1 per view.
 *  - `window` (BigQuery, and DuckDB in tests): per view, UNION ALL of its feature rows and the
 *    events, then LAST_VALUE(row IGNORE NULLS) over the view's keys ordered by time with explicit
 *    tie-breakers; each event row picks up the whole feature row (a struct) last seen before it.
 *    No range join, so the work does not grow with the number of rows per key.
 * All give each event row exactly once, in input order (the events' row number); the
 * differential test holds both to a plain TypeScript statement of the rule.
 */
import { ROW_COLUMN, TS_COLUMN, scanRange, type PitFeature, type PitView, type PointInTimePlan } from '../plans/point-in-time.js';
import type { Dialect, PitStrategy } from './dialect.js';
import { renderAggregateParts, type AggregateParts } from './aggregate-windows.js';

export interface PitRenderOptions {
  /** force a strategy of the dialect's; DuckDB renders every one, so tests can execute them */
  strategy?: PitStrategy;
  /** rows in input order (default); false where the order cannot be kept anyway (a warehouse table), sparing a sort */
  ordered?: boolean;
  /** output the events' row number too (ROW_COLUMN), for a query over this one that orders (on-demand outputs) */
  keepRow?: boolean;
}

export function strategyFor(dialect: Dialect): PitStrategy {
  return dialect.pitStrategies[0];
}

const EVENTS = 'fsql_events';

/** The training table's SELECT. */
export function renderPointInTime(plan: PointInTimePlan, d: Dialect, opts: PitRenderOptions = {}): string {
  const strategy = opts.strategy ?? strategyFor(d);
  if (!d.pitStrategies.includes(strategy)) throw new Error(`${d.name} cannot run the '${strategy}' strategy; its strategies: ${d.pitStrategies.join(', ')}`);
  const keepRow = opts.keepRow ?? false;
  const select = strategy === 'asof' ? renderAsof(plan, d, keepRow) : strategy === 'window' ? renderWindow(plan, d, keepRow) : renderLateral(plan, d, keepRow);
  return opts.ordered === false ? select : `${select}\norder by e.${d.quoteIdent(ROW_COLUMN)}`;
}

/** min and max event time of the staged events (columns min_ts, max_ts). */
export function renderEventTimes(plan: Pick<PointInTimePlan, 'events'>, d: Dialect): string {
  const ts = d.castTo(d.quoteIdent(plan.events.timestamp), 'timestamp');
  return `select min(${ts}) as min_ts, max(${ts}) as max_ts from ${d.relation(plan.events.table)}`;
}

/** The events with their row number and their time as a plain timestamp. */
function eventsCte(plan: PointInTimePlan, d: Dialect): string {
  const order = plan.events.orderColumn ? `, ${d.quoteIdent(plan.events.orderColumn)} as ${d.quoteIdent(ROW_COLUMN)}` : '';
  return `${EVENTS} as (\n  select *${order}, ${d.castTo(d.quoteIdent(plan.events.timestamp), 'timestamp')} as ${d.quoteIdent(TS_COLUMN)}\n  from ${d.relation(plan.events.table)}\n)`;
}

/** Conditions on a view's feature rows: keys present, timestamp within the range that matters. */
function scanConditions(plan: PointInTimePlan, v: PitView, d: Dialect, alias: string): string[] {
  const col = (c: string) => `${alias}.${d.quoteIdent(c)}`;
  const ts = col(v.timestamp);
  const conds = v.keys.map((k) => `${col(k.column)} is not null`);
  const range = scanRange(v, plan.eventTimes);
  if (range === 'none') conds.push('false');
  else if (range === 'dynamic') {
    const eventTs = (fn: 'min' | 'max') => `(select ${fn}(${d.quoteIdent(TS_COLUMN)}) from ${EVENTS})`;
    if (v.ttlSeconds !== undefined) conds.push(`${ts} >= ${d.timeSub(eventTs('min'), v.ttlSeconds)}`);
    conds.push(`${ts} <= ${eventTs('max')}`);
  } else {
    if (range.start) conds.push(`${ts} >= ${d.timestampLiteral(range.start)}`);
    if (range.end) conds.push(`${ts} <= ${d.timestampLiteral(range.end)}`);
  }
  return conds;
}

/**
 * A feature as output: NULL when the matched row is older than the TTL (both ends inclusive).
 * `guard` repeats the match condition, for ASOF joins: DuckDB's matches an event whose time is
 * NULL to the key's latest row, where the rule says it matches nothing.
 */
function featureOutput(v: PitView, d: Dialect, matchedTs: string, value: string, guard: boolean): string {
  const eventTs = `e.${d.quoteIdent(TS_COLUMN)}`;
  const conds = [...(guard ? [`${matchedTs} <= ${eventTs}`] : []), ...(v.ttlSeconds === undefined ? [] : [`${matchedTs} >= ${d.timeSub(eventTs, v.ttlSeconds)}`])];
  return conds.length === 0 ? value : `case when ${conds.join(' and ')} then ${value} end`;
}

function outputColumns(plan: PointInTimePlan, d: Dialect, guard: boolean, feature: (v: PitView, i: number, column: string) => string, matchedTs: (v: PitView, i: number) => string, keepRow: boolean): string[] {
  const agg = aggregatesOf(plan, d);
  return [
    eventColumns(plan, d),
    ...(keepRow ? [`e.${d.quoteIdent(ROW_COLUMN)} as ${d.quoteIdent(ROW_COLUMN)}`] : []),
    ...plan.views.flatMap((v, i) =>
      v.features.map((f) => `${v.aggregate ? typed(d, f, agg.value(i, f)) : featureOutput(v, d, matchedTs(v, i), typed(d, f, feature(v, i, f.column)), guard)} as ${d.quoteIdent(f.output)}`),
    ),
  ];
}

/** Aggregate views are not matched to a row: their windows are computed at each event's time (aggregate-windows.ts). */
function aggregatesOf(plan: PointInTimePlan, d: Dialect): AggregateParts {
  return renderAggregateParts(plan, d, EVENTS);
}

/** The CTEs after the events': each aggregate view's windows. */
function withAggregates(plan: PointInTimePlan, d: Dialect, ctes: string[]): string {
  return `with ${[...ctes, ...aggregatesOf(plan, d).ctes].join(',\n')}`;
}

/**
 * A numeric feature cast to its common type, so it has one type on every warehouse: DuckDB sums
 * integers as 128-bit (parquet then stores a DOUBLE), PostgreSQL may hold int4 or numeric.
 */
function typed(d: Dialect, f: PitFeature, value: string): string {
  return f.type === 'int64' || f.type === 'float64' ? d.castTo(value, f.type) : value;
}

/** The events' own columns: all but fsql's helper columns. */
function eventColumns(plan: PointInTimePlan, d: Dialect): string {
  if (d.hasSelectExcept) return d.selectAllExcept('e', [ROW_COLUMN, TS_COLUMN]);
  if (!plan.events.columns) throw new Error(`${d.name}: the training query lists the event columns, which are not known here`);
  return plan.events.columns.map((c) => `e.${d.quoteIdent(c)}`).join(', ');
}

/** A view's feature rows that can matter: the columns needed, pruned by scanConditions. */
function scanOf(plan: PointInTimePlan, v: PitView, d: Dialect, alias: string, extraConditions: string[] = []) {
  const id = (c: string) => d.quoteIdent(c);
  const cols = [...new Set([...v.keys.map((k) => k.column), v.timestamp, ...v.features.map((f) => f.column)])].map((c) => `f.${id(c)}`);
  const where = `  where ${[...extraConditions, ...scanConditions(plan, v, d, 'f')].join('\n    and ')}`;
  return (extra: string[], tail = '') => `(\n  select ${[...cols, ...extra].join(', ')}\n  from ${d.relation(v.table)} as f\n${where}${tail}\n) as ${alias}`;
}

/** One ASOF join per view, in the dialect's syntax (Dialect.asofJoin); TTL applied after the match. */
function renderAsof(plan: PointInTimePlan, d: Dialect, keepRow: boolean): string {
  const id = (c: string) => d.quoteIdent(c);
  const joins = plan.views.flatMap((v, i) => {
    if (v.aggregate) return [];
    const alias = `f${i + 1}`;
    return d.asofJoin({
      alias,
      scan: scanOf(plan, v, d, alias),
      equalities: v.keys.map((k) => `e.${id(k.event)} = ${alias}.${id(k.column)}`),
      eventTs: `e.${id(TS_COLUMN)}`,
      timestamp: id(v.timestamp),
      created: v.createdTimestamp ? id(v.createdTimestamp) : undefined,
      keys: v.keys.map((k) => id(k.column)),
      tie: tieOf(v, d),
    });
  });
  return joinedSelect(plan, d, joins, true, keepRow);
}

/**
 * One LEFT JOIN LATERAL per view: the view's rows of the event's keys at or before its time (and
 * within the TTL), latest first, created_timestamp breaking ties (NULL lowest), LIMIT 1. With an
 * index on (keys, timestamp) each event costs one index descent (fsql creates it: see the adapter).
 */
function renderLateral(plan: PointInTimePlan, d: Dialect, keepRow: boolean): string {
  const id = (c: string) => d.quoteIdent(c);
  const eventTs = `e.${id(TS_COLUMN)}`;
  const joins = plan.views.flatMap((v, i) => {
    if (v.aggregate) return [];
    const alias = `f${i + 1}`;
    const conds = [...v.keys.map((k) => `f.${id(k.column)} = e.${id(k.event)}`), `f.${id(v.timestamp)} <= ${eventTs}`];
    if (v.ttlSeconds !== undefined) conds.push(`f.${id(v.timestamp)} >= ${d.timeSub(eventTs, v.ttlSeconds)}`);
    const order = [`f.${id(v.timestamp)} desc`, ...(v.createdTimestamp ? [`f.${id(v.createdTimestamp)} desc nulls last`] : []), `${tieOf(v, d)} desc`];
    return `left join lateral ${scanOf(plan, v, d, alias, conds)([], `\n  order by ${order.join(', ')}\n  limit 1`)} on true`;
  });
  return joinedSelect(plan, d, joins, false, keepRow);
}

/** The complete-tie order of a view's feature rows `f` (SPEC section 4). */
function tieOf(v: PitView, d: Dialect): string {
  return d.tieBreak(v.allFeatures.map((c) => `f.${d.quoteIdent(c)}`));
}

/** The events joined to one matched row per view (ASOF or LATERAL), in input order. */
function joinedSelect(plan: PointInTimePlan, d: Dialect, joins: string[], guard: boolean, keepRow: boolean): string {
  const select = outputColumns(
    plan,
    d,
    guard,
    (_v, i, column) => `f${i + 1}.${d.quoteIdent(column)}`,
    (v, i) => `f${i + 1}.${d.quoteIdent(v.timestamp)}`,
    keepRow,
  );
  return [
    withAggregates(plan, d, [eventsCte(plan, d)]),
    `select\n  ${select.join(',\n  ')}`,
    `from ${EVENTS} as e`,
    ...joins,
    ...aggregatesOf(plan, d).joins,
  ].join('\n');
}

const KIND_FEATURE = 0;
const KIND_EVENT = 1;
const MATCH = '__fsql_match';
const KIND = '__fsql_kind';
const CREATED = '__fsql_created';
const TIE = '__fsql_tie';
const MATCH_TS = 't';
const matchField = (j: number) => `f${j}`;

function renderWindow(plan: PointInTimePlan, d: Dialect, keepRow: boolean): string {
  const id = (c: string) => d.quoteIdent(c);
  const matches = plan.views.flatMap((v, i) => {
    if (v.aggregate) return [];
    const keyNames = v.keys.map((_k, j) => `__fsql_k${j}`);
    const struct = d.structOf([[MATCH_TS, `f.${id(v.timestamp)}`], ...v.features.map((f, j): [string, string] => [matchField(j), `f.${id(f.column)}`])]);
    const featureRows =
      `    select ${[
        ...v.keys.map((k, j) => `f.${id(k.column)} as ${id(keyNames[j])}`),
        `f.${id(v.timestamp)} as ${id(TS_COLUMN)}`,
        `${KIND_FEATURE} as ${id(KIND)}`,
        `${v.createdTimestamp ? `f.${id(v.createdTimestamp)}` : d.castTo('null', 'timestamp')} as ${id(CREATED)}`,
        `${tieOf(v, d)} as ${id(TIE)}`,
        `${struct} as ${id(MATCH)}`,
        `${d.castTo('null', 'int64')} as ${id(ROW_COLUMN)}`,
      ].join(', ')}\n` +
      `    from ${d.relation(v.table)} as f\n` +
      `    where ${scanConditions(plan, v, d, 'f').join(' and ')}`;
    const eventRows =
      `    select ${[
        ...v.keys.map((k, j) => `e.${id(k.event)} as ${id(keyNames[j])}`),
        `e.${id(TS_COLUMN)}`,
        `${KIND_EVENT} as ${id(KIND)}`,
        d.castTo('null', 'timestamp'),
        'null',
        'null',
        `e.${id(ROW_COLUMN)}`,
      ].join(', ')}\n` +
      `    from ${EVENTS} as e\n` +
      `    where ${[...v.keys.map((k) => `e.${id(k.event)} is not null`), `e.${id(TS_COLUMN)} is not null`].join(' and ')}`;
    // Feature rows sort before events at the same time (f.ts <= e.ts), and among themselves by
    // created_timestamp, a NULL one first so that it loses (spelt without NULLS FIRST, whose
    // default differs between warehouses), then by the tie-break: the last feature row before an
    // event is its match.
    const window =
      `partition by ${keyNames.map((k) => `u.${id(k)}`).join(', ')} ` +
      `order by u.${id(TS_COLUMN)}, u.${id(KIND)}, u.${id(CREATED)} is not null, u.${id(CREATED)}, u.${id(TIE)} ` +
      `rows between unbounded preceding and current row`;
    return (
      `fsql_match_${i + 1} as (\n` +
      `  select w.${id(ROW_COLUMN)}, w.${id(MATCH)}\n` +
      `  from (\n` +
      `    select u.${id(ROW_COLUMN)}, u.${id(KIND)}, last_value(u.${id(MATCH)} ignore nulls) over (${window}) as ${id(MATCH)}\n` +
      `    from (\n${featureRows.replace(/^/gm, '  ')}\n      union all\n${eventRows.replace(/^/gm, '  ')}\n    ) as u\n` +
      `  ) as w\n` +
      `  where w.${id(KIND)} = ${KIND_EVENT}\n` +
      `)`
    );
  });
  const matched = (i: number) => `m${i + 1}.${id(MATCH)}`;
  const select = outputColumns(
    plan,
    d,
    false,
    (v, i, column) => d.structField(matched(i), matchField(v.features.findIndex((f) => f.column === column))),
    (_v, i) => d.structField(matched(i), MATCH_TS),
    keepRow,
  );
  return [
    withAggregates(plan, d, [eventsCte(plan, d), ...matches]),
    `select\n  ${select.join(',\n  ')}`,
    `from ${EVENTS} as e`,
    ...plan.views.flatMap((v, i) => (v.aggregate ? [] : [`left join fsql_match_${i + 1} as m${i + 1} on m${i + 1}.${id(ROW_COLUMN)} = e.${id(ROW_COLUMN)}`])),
    ...aggregatesOf(plan, d).joins,
  ].join('\n');
}
