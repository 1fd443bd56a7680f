/**
 * bench/aggregate: an aggregate view (SPEC section 9) on 10M transactions of 100k users over 90
 * days, windows 1h, 1d, 7d and 30d of count, sum, avg and max, and count_distinct over 30d; 1M
 * training events. Measured in the same run, on the same DuckDB file and threads:
 *  - fsql run from scratch (events and tiles), then one new day of data and an incremental
 *    `fsql run` (target: <= 5% of the full run);
 *  - fsql train (the real binary, spawn to exit) on the 1M events;
 *  - the direct range join: each training event joined to its 30 days of raw rows, then GROUP BY
 *    with a FILTER per window (what a person writes first; target: fsql run + train >= 10x faster);
 *  - the fastest exact hand-written DuckDB query found: events and raw rows in one sorted stream,
 *    RANGE frames of `W preceding and 1 preceding` over epoch microseconds (DuckDB's segment
 *    trees, windowed DISTINCT for the distinct count), so [t - W, t) holds exactly.
 * All three outputs are checked equal (doubles to 1e-9 relative).
 * Run: npm run build && node dist/bench/aggregate.js [rows] [users] [events] [days] [tile]
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { benchProject } from './bench-project.js';
import { transactionsSelect, userAggView } from './user-agg-view.js';
import { runFsql, THREADS, timeQuery, withDuckDb, type ProcessRun, type QueryRun } from './measure.js';

const ROWS = Number(process.argv[2] ?? 10_000_000);
const USERS = Number(process.argv[3] ?? 100_000);
const EVENTS = Number(process.argv[4] ?? 1_000_000);
const DAYS = Number(process.argv[5] ?? 90);
/** The view's tile: 1h by default; denser data (fewer users) gains from coarser tiles. */
const TILE = process.argv[6] ?? '1h';
const DAY_US = 86_400_000_000;
const WINDOWS: [string, number][] = [
  ['1h', 3_600_000_000],
  ['1d', DAY_US],
  ['7d', 7 * DAY_US],
  ['30d', 30 * DAY_US],
];
const FUNCTIONS = ['sum', 'avg', 'max'] as const;

/** Output columns in fsql's order: count(*) per window, then per function and window, then the distinct count. */
const COLUMNS: { name: string; fn: 'count' | (typeof FUNCTIONS)[number] | 'count_distinct'; w: number }[] = [
  ...WINDOWS.map(([n, w]) => ({ name: `user_agg__count_${n}`, fn: 'count' as const, w })),
  ...FUNCTIONS.flatMap((fn) => WINDOWS.map(([n, w]) => ({ name: `user_agg__amount_${fn}_${n}`, fn, w }))),
  { name: 'user_agg__merchant_id_count_distinct_30d', fn: 'count_distinct', w: 30 * DAY_US },
];

function makeProject(): string {
  return benchProject({ 'models/user_agg.sql': userAggView(TILE) }, { yml: 'feature_services:\n  - name: bench\n    features: [user_agg]\n' });
}

/** All transactions in `all_transactions`; `transactions` holds all but the last day's. */
async function generate(db: string, events: string): Promise<void> {
  await withDuckDb(db, async (c) => {
    await c.run(`create or replace table all_transactions as ${transactionsSelect(ROWS, USERS, "timestamp '2024-01-01'", DAYS)}`);
    await c.run(`create or replace table transactions as select * from all_transactions where ts < timestamp '2024-01-01' + interval ${DAYS - 1} day`);
    await c.run(`copy (
      select i as event_id, 'u_' || (hash(i, 11) % ${USERS}) as user_id,
        timestamp '2024-01-31' + to_microseconds((hash(i, 12) % ${(DAYS - 30) * DAY_US})::bigint) as event_timestamp
      from range(${EVENTS}) as t(i)
    ) to '${events}' (format parquet)`);
  });
}

const EVENT_COLUMNS = 'e.event_id, e.user_id, e.event_timestamp';

/** Each event joined to its 30 days of raw rows, then aggregated with a FILTER per window. */
function rangeJoin(events: string, out: string): string {
  const agg = COLUMNS.map((col) => {
    const inWindow = `r.ts >= e.event_timestamp - to_microseconds(${col.w})`;
    switch (col.fn) {
      case 'count':
        return `count(r.ts) filter (where ${inWindow}) as ${col.name}`;
      case 'sum':
        return `coalesce(sum(r.amount) filter (where ${inWindow}), 0) as ${col.name}`;
      case 'count_distinct':
        return `count(distinct r.merchant_id) filter (where ${inWindow}) as ${col.name}`;
      default:
        return `${col.fn}(r.amount) filter (where ${inWindow}) as ${col.name}`;
    }
  });
  return `copy (
  select ${EVENT_COLUMNS}, ${agg.join(', ')}
  from read_parquet('${events}', file_row_number = true) as e
  left join transactions as r on r.user_id = e.user_id and r.ts < e.event_timestamp and r.ts >= e.event_timestamp - interval 30 day
  group by e.file_row_number, e.event_id, e.user_id, e.event_timestamp
  order by e.file_row_number
) to '${out}' (format parquet)`;
}

/** Events and raw rows in one stream per user, ordered by epoch microseconds; a RANGE frame per window. */
function handWindows(events: string, out: string): string {
  const frame = (w: number) => `(partition by user_id order by us range between ${w} preceding and 1 preceding)`;
  const agg = COLUMNS.map((col) => {
    const over = `over ${frame(col.w)}`;
    switch (col.fn) {
      case 'count':
        return `count(one) ${over} as ${col.name}`;
      case 'sum':
        return `coalesce(sum(amount) ${over}, 0) as ${col.name}`;
      case 'count_distinct':
        return `count(distinct merchant_id) ${over} as ${col.name}`;
      default:
        return `${col.fn}(amount) ${over} as ${col.name}`;
    }
  });
  return `copy (
  with e as (select *, file_row_number as rn from read_parquet('${events}', file_row_number = true)),
  u as (
    select user_id, epoch_us(ts) as us, amount, merchant_id, 1 as one, null::bigint as rn from transactions
    where ts >= (select min(event_timestamp) from e) - interval 30 day and ts < (select max(event_timestamp) from e)
    union all
    select user_id, epoch_us(event_timestamp), null, null, null, rn from e
  ),
  w as (select rn, ${agg.join(', ')} from u qualify rn is not null)
  select ${EVENT_COLUMNS}, ${COLUMNS.map((c) => `w.${c.name}`).join(', ')}
  from e join w using (rn)
  order by e.rn
) to '${out}' (format parquet)`;
}

/** Rows of `a` and `b` (by event_id) whose values differ beyond float noise. */
async function mismatches(a: string, b: string): Promise<number> {
  return withDuckDb(':memory:', async (c) => {
    const differ = COLUMNS.map((col) => `not (a.${col.name} is not distinct from b.${col.name} or abs(a.${col.name} - b.${col.name}) <= 1e-9 * greatest(1, abs(a.${col.name})))`);
    const sql = `select count(*) from read_parquet('${a}') as a full join read_parquet('${b}') as b using (event_id) where a.event_id is null or b.event_id is null or ${differ.join(' or ')}`;
    return Number((await c.runAndReadAll(sql)).getRows()[0][0]);
  });
}

const fmt = (s: number) => `${s.toFixed(2)} s`;
const dir = makeProject();
const db = join(dir, 'target', 'bench.duckdb');
mkdirSync(join(dir, 'target'), { recursive: true });
const events = join(dir, 'events.parquet');
console.log(`bench/aggregate: ${ROWS.toLocaleString('en')} transactions, ${USERS.toLocaleString('en')} users, ${DAYS} days; ${EVENTS.toLocaleString('en')} training events; tile ${TILE}; ${THREADS} threads; ${dir}`);
await generate(db, events);

const runReported = / in ([\d.]+)s$/m;
const first: ProcessRun = await runFsql(['run'], dir, [], runReported);
const own = (r: ProcessRun) => `fsql's own ${fmt(r.reported)}`;
console.log(`fsql run, ${DAYS - 1} days, from scratch:       ${fmt(first.seconds)} (cpu ${fmt(first.cpu)}; ${own(first)})`);
await withDuckDb(db, (c) => c.run(`insert into transactions select * from all_transactions where ts >= timestamp '2024-01-01' + interval ${DAYS - 1} day`));
const incremental: ProcessRun = await runFsql(['run'], dir, [], runReported);
console.log(`fsql run after one new day (incremental): ${fmt(incremental.seconds)} (cpu ${fmt(incremental.cpu)}; ${own(incremental)})`);
const full: ProcessRun = await runFsql(['run', '--full-refresh'], dir, [], runReported);
console.log(`fsql run, ${DAYS} days, from scratch:       ${fmt(full.seconds)} (cpu ${fmt(full.cpu)}; ${own(full)})`);
console.log(`  incremental / full run: ${((100 * incremental.seconds) / full.seconds).toFixed(1)}% of the process time, ${((100 * incremental.reported) / full.reported).toFixed(1)}% of fsql's own (target <= 5%)`);

const trained: ProcessRun = await runFsql(['train', '--service', 'bench', '--events', events, '--out', join(dir, 'fsql.parquet')], dir);
console.log(`fsql train:                               ${fmt(trained.seconds)} (cpu ${fmt(trained.cpu)}, peak RSS ${trained.peakRssMb.toFixed(0)} MB)`);
const range: QueryRun = await timeQuery(db, rangeJoin(events, join(dir, 'range.parquet')));
console.log(`direct range join:                        ${fmt(range.seconds)} (cpu ${fmt(range.cpu)})`);
const hand: QueryRun = await timeQuery(db, handWindows(events, join(dir, 'hand.parquet')));
console.log(`hand-written RANGE frames:                ${fmt(hand.seconds)} (cpu ${fmt(hand.cpu)})`);

const fsqlTotal = full.seconds + trained.seconds;
console.log(`fsql run + train: ${fmt(fsqlTotal)}; direct range join / fsql = ${(range.seconds / fsqlTotal).toFixed(2)}x (target >= 10x); fsql / hand-written = ${(fsqlTotal / hand.seconds).toFixed(2)}x (goal <= 1.0x); train alone / hand-written = ${(trained.seconds / hand.seconds).toFixed(2)}x`);
const [m1, m2] = [await mismatches(join(dir, 'fsql.parquet'), join(dir, 'range.parquet')), await mismatches(join(dir, 'fsql.parquet'), join(dir, 'hand.parquet'))];
console.log(`rows differing from fsql: range join ${m1}, hand-written ${m2}`);
if (m1 + m2 > 0) process.exitCode = 1;
