/**
 * Renders a PointInTimePlan as one SELECT. Two strategies, chosen by capability:
 *  - `asof` (DuckDB `ASOF LEFT JOIN`, Snowflake `ASOF JOIN ... MATCH_CONDITION`): one ASOF join per
 *    view on its feature rows, pruned to the event time range; ties on (keys, timestamp) settled
 *    by created_timestamp (see renderAsof); TTL applied after the match.
 *  - `window` (BigQuery, and DuckDB in tests): per view, UNION ALL of its feature rows and the
 *    events, then LAST_VALUE(row IGNORE NULLS) over the view's keys ordered by time with explicit
 *    tie-breakers; each event row picks up the whole feature row (a struct) last seen before it.
 *    No range join, so the work does not grow with the number of rows per key.
 * Both give each event row exactly once, in input order (the events' row number); the
 * differential test holds both to a plain TypeScript statement of the rule.
 */
import { ROW_COLUMN, TS_COLUMN, scanRange, type PitView, type PointInTimePlan } from '../plans/point-in-time.js';
import type { Dialect } from './dialect.js';

export type PitStrategy = 'asof' | 'window';

export interface PitRenderOptions {
  /** force a strategy; `window` renders for DuckDB too, so tests can execute it */
  strategy?: PitStrategy;
}

export function strategyFor(dialect: Dialect): PitStrategy {
  return dialect.hasAsofJoin ? 'asof' : 'window';
}

const EVENTS = 'fsql_events';

/** The training table's SELECT. */
export function renderPointInTime(plan: PointInTimePlan, d: Dialect, opts: PitRenderOptions = {}): string {
  const strategy = opts.strategy ?? strategyFor(d);
  if (strategy === 'asof' && !d.hasAsofJoin) throw new Error(`${d.name} has no ASOF join; render the 'window' strategy`);
  return strategy === 'asof' ? renderAsof(plan, d) : renderWindow(plan, d);
}

/** min and max event time of the staged events (columns min_ts, max_ts). */
export function renderEventTimes(plan: Pick<PointInTimePlan, 'events'>, d: Dialect): string {
  const ts = d.castTo(d.quoteIdent(plan.events.timestamp), 'timestamp');
  return `select min(${ts}) as min_ts, max(${ts}) as max_ts from ${plan.events.relation}`;
}

/** The events with their row number and their time as a plain timestamp. */
function eventsCte(plan: PointInTimePlan, d: Dialect): string {
  const order = plan.events.orderColumn ? `, ${d.quoteIdent(plan.events.orderColumn)} as ${d.quoteIdent(ROW_COLUMN)}` : '';
  return `${EVENTS} as (\n  select *${order}, ${d.castTo(d.quoteIdent(plan.events.timestamp), 'timestamp')} as ${d.quoteIdent(TS_COLUMN)}\n  from ${plan.events.relation}\n)`;
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

function outputColumns(plan: PointInTimePlan, d: Dialect, guard: boolean, feature: (v: PitView, i: number, column: string) => string, matchedTs: (v: PitView, i: number) => string): string[] {
  const hidden = [ROW_COLUMN, TS_COLUMN];
  return [
    d.selectAllExcept('e', hidden),
    ...plan.views.flatMap((v, i) => v.features.map((f) => `${featureOutput(v, d, matchedTs(v, i), feature(v, i, f.column), guard)} as ${d.quoteIdent(f.output)}`)),
  ];
}

const ORDER = '__fsql_order';

/**
 * One ASOF join per view. Ties on (keys, timestamp) go to the greatest created_timestamp:
 *  - DuckDB: the ASOF ordering key is the struct (timestamp, created_timestamp), so the join picks
 *    the latest row and, among rows at that time, the latest created, in the same sort. (A
 *    `QUALIFY row_number() ... = 1` pre-pass costs a second sort of the feature rows, and DuckDB
 *    1.5's top-N window rewrite of it returned the wrong row in the differential test.)
 *  - Snowflake: MATCH_CONDITION compares single columns, so the feature rows are first reduced to
 *    one per (keys, timestamp) with QUALIFY.
 * Either way the ASOF join yields at most one row per event, so full ties still give one row.
 */
function renderAsof(plan: PointInTimePlan, d: Dialect): string {
  const id = (c: string) => d.quoteIdent(c);
  const joins = plan.views.map((v, i) => {
    const alias = `f${i + 1}`;
    const q = (c: string) => `f.${id(c)}`;
    const cols = [...new Set([...v.keys.map((k) => k.column), v.timestamp, ...v.features.map((f) => f.column)])].map(q);
    const where = `  where ${scanConditions(plan, v, d, 'f').join('\n    and ')}`;
    const scan = (extra: string[], tail = '') => `(\n  select ${[...cols, ...extra].join(', ')}\n  from ${v.relation} as f\n${where}${tail}\n) as ${alias}`;
    const equal = v.keys.map((k) => `e.${id(k.event)} = ${alias}.${id(k.column)}`);
    const eventTs = `e.${id(TS_COLUMN)}`;
    const match = `${eventTs} >= ${alias}.${id(v.timestamp)}`;
    switch (d.name) {
      case 'duckdb': {
        if (!v.createdTimestamp) return `asof left join ${scan([])}\n  on ${[...equal, match].join(' and ')}`;
        const order = d.structOf([['t', q(v.timestamp)], ['c', `coalesce(${q(v.createdTimestamp)}, timestamp '-infinity')`]]);
        const eventOrder = d.structOf([['t', eventTs], ['c', `timestamp 'infinity'`]]);
        return `asof left join ${scan([`${order} as ${id(ORDER)}`])}\n  on ${[...equal, `${eventOrder} >= ${alias}.${id(ORDER)}`].join(' and ')}`;
      }
      case 'snowflake': {
        const dedup = v.createdTimestamp
          ? `\n  qualify row_number() over (partition by ${[...v.keys.map((k) => q(k.column)), q(v.timestamp)].join(', ')} order by ${q(v.createdTimestamp)} desc nulls last) = 1`
          : '';
        return `asof join ${scan([], dedup)}\n  match_condition (${match})\n  on ${equal.join(' and ')}`;
      }
      default:
        throw new Error(`${d.name}: no ASOF join syntax`);
    }
  });
  const select = outputColumns(
    plan,
    d,
    true,
    (_v, i, column) => `f${i + 1}.${d.quoteIdent(column)}`,
    (v, i) => `f${i + 1}.${d.quoteIdent(v.timestamp)}`,
  );
  return [
    `with ${eventsCte(plan, d)}`,
    `select\n  ${select.join(',\n  ')}`,
    `from ${EVENTS} as e`,
    ...joins,
    `order by e.${d.quoteIdent(ROW_COLUMN)}`,
  ].join('\n');
}

const KIND_FEATURE = 0;
const KIND_EVENT = 1;
const MATCH = '__fsql_match';
const KIND = '__fsql_kind';
const CREATED = '__fsql_created';
const MATCH_TS = 't';
const matchField = (j: number) => `f${j}`;

function renderWindow(plan: PointInTimePlan, d: Dialect): string {
  const id = (c: string) => d.quoteIdent(c);
  const matches = plan.views.map((v, i) => {
    const keyNames = v.keys.map((_k, j) => `__fsql_k${j}`);
    const struct = d.structOf([[MATCH_TS, `f.${id(v.timestamp)}`], ...v.features.map((f, j): [string, string] => [matchField(j), `f.${id(f.column)}`])]);
    const featureRows =
      `    select ${[
        ...v.keys.map((k, j) => `f.${id(k.column)} as ${id(keyNames[j])}`),
        `f.${id(v.timestamp)} as ${id(TS_COLUMN)}`,
        `${KIND_FEATURE} as ${id(KIND)}`,
        `${v.createdTimestamp ? `f.${id(v.createdTimestamp)}` : d.castTo('null', 'timestamp')} as ${id(CREATED)}`,
        `${struct} as ${id(MATCH)}`,
        `${d.castTo('null', 'int64')} as ${id(ROW_COLUMN)}`,
      ].join(', ')}\n` +
      `    from ${v.relation} as f\n` +
      `    where ${scanConditions(plan, v, d, 'f').join(' and ')}`;
    const eventRows =
      `    select ${[
        ...v.keys.map((k, j) => `e.${id(k.event)} as ${id(keyNames[j])}`),
        `e.${id(TS_COLUMN)}`,
        `${KIND_EVENT} as ${id(KIND)}`,
        d.castTo('null', 'timestamp'),
        'null',
        `e.${id(ROW_COLUMN)}`,
      ].join(', ')}\n` +
      `    from ${EVENTS} as e\n` +
      `    where ${[...v.keys.map((k) => `e.${id(k.event)} is not null`), `e.${id(TS_COLUMN)} is not null`].join(' and ')}`;
    // Feature rows sort before events at the same time (f.ts <= e.ts), and among themselves by
    // created_timestamp, a NULL one first so that it loses (spelt without NULLS FIRST, whose
    // default differs between warehouses): the last feature row before an event is its match.
    const window =
      `partition by ${keyNames.map((k) => `u.${id(k)}`).join(', ')} ` +
      `order by u.${id(TS_COLUMN)}, u.${id(KIND)}, u.${id(CREATED)} is not null, u.${id(CREATED)} ` +
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
  );
  return [
    `with ${[eventsCte(plan, d), ...matches].join(',\n')}`,
    `select\n  ${select.join(',\n  ')}`,
    `from ${EVENTS} as e`,
    ...plan.views.map((_v, i) => `left join fsql_match_${i + 1} as m${i + 1} on m${i + 1}.${id(ROW_COLUMN)} = e.${id(ROW_COLUMN)}`),
    `order by e.${id(ROW_COLUMN)}`,
  ].join('\n');
}
