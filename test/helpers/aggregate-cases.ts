/**
 * Random cases for aggregate views (SPEC section 9) with the edges that break implementations:
 * events exactly on a row, on t - W, one microsecond either side, on tile boundaries, sub-second
 * times, NULL inputs, keys and times, duplicate rows, entities with one row or none, windows
 * shorter than a tile, not a multiple of it, longer than the data, lifetime; every function. Loaded
 * into a warehouse (tiles built by the run's SQL, half the cases incrementally after a full build
 * of part of the rows), checked against the brute force of aggregate-reference.ts.
 */
import { AGG_FUNCTIONS, featureType, floatTolerance, tileTables, type AggFeature, type AggregateRunPlan, type AggregateSpec } from '../../src/plans/aggregate.js';
import { ROW_COLUMN, type PointInTimePlan } from '../../src/plans/point-in-time.js';
import { renderFullBuild, renderIncrementalRun } from '../../src/dialects/aggregate-tiles.js';
import { seededRandom } from '../../src/seeded-random.js';
import { Timestamp, type Row, type Value } from '../../src/values.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { aggregateReference, type AggEvent, type AggResult, type AggRow } from './aggregate-reference.js';

export const TILE_SECONDS = 3600;
export const BASE = Timestamp.parse('2024-03-10T00:00:00Z')!.micros;
const US = 1_000_000n;
/** an hour, TILE_SECONDS, in microseconds */
export const HOUR = 3600n * US;
/**
 * Mostly plain names; besides them, text a warehouse orders or writes in JSON otherwise than
 * JavaScript (upper case, non-ASCII, a quote, a comma): sync takes each string column's distinct
 * values as the warehouse's JSON text (online/aggregate/distinct-text.ts).
 */
const MERCHANTS = ['m0', 'm1', 'm2', 'm3', 'm0', 'm1', 'M0', 'mü', 'm"q', 'm,1'];

/** Windows: shorter than a tile, one tile, not a multiple, a day, fractional seconds, lifetime. */
const WINDOWS: [string, number | undefined][] = [
  ['30m', 1800],
  ['1h', 3600],
  ['150m', 9000],
  ['1d', 86400],
  ['w7200_5', 7200.5],
  ['lifetime', undefined],
];

function features(): AggFeature[] {
  const out: AggFeature[] = [];
  const add = (column: string, fn: AggFeature['function'], n?: number) =>
    WINDOWS.forEach(([w, s]) => out.push({ name: column === '*' ? `count_${w}` : `${column}_${fn}${n ? n : ''}_${w}`, function: fn, column, window: w, windowSeconds: s, ...(n ? { n } : {}) }));
  add('*', 'count');
  for (const fn of AGG_FUNCTIONS) {
    if (fn === 'approx_count_distinct' || fn === 'count_distinct') continue;
    if (fn === 'first_n' || fn === 'last_n') add('amount', fn, 3);
    else add('amount', fn);
  }
  add('amount', 'last_n', 1);
  for (const fn of ['sum', 'min', 'max', 'first', 'last', 'count'] as const) add('qty', fn);
  add('merchant', 'count_distinct');
  add('qty', 'count_distinct');
  add('merchant', 'approx_count_distinct');
  return out;
}

export const SPEC: AggregateSpec = { tileSeconds: TILE_SECONDS, syncHorizonSeconds: 86_400, features: features() };
export const INPUT_TYPES: Record<string, 'float64' | 'int64' | 'string'> = { amount: 'float64', qty: 'int64', merchant: 'string' };

export interface AggCase {
  seed: number;
  rows: AggRow[];
  events: AggEvent[];
  /** build part of the rows, then the rest incrementally from this time (or all at once) */
  incrementalFrom?: bigint;
}

export function generate(seed: number): AggCase {
  const next = seededRandom(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const chance = (p: number) => next() < p;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
  const users = Array.from({ length: int(1, 4) }, (_, i) => `u${i}`);
  const large = seed % 5 === 0; // large magnitudes: a sum of squares would lose every digit of the variance
  const amount = () => (chance(0.15) ? null : (large ? 1e9 : 0) + int(-200, 2000) / 4);
  const rows: AggRow[] = [];
  const n = int(0, 50);
  const spanHours = pick([3, 12, 48]);
  for (let i = 0; i < n; i++) {
    if (rows.length > 0 && chance(0.1)) {
      rows.push({ ...pick(rows) }); // a duplicate row
      continue;
    }
    let ts: bigint | null = BASE + BigInt(int(0, spanHours * 3600)) * US;
    if (chance(0.3)) ts = BASE + BigInt(int(0, spanHours)) * HOUR + pick([0n, 0n, 1n, -1n]); // on a tile boundary, or a microsecond off
    else if (chance(0.3)) ts += BigInt(int(0, 999_999)); // sub-second
    if (rows.length > 0 && chance(0.1)) ts = pick(rows).ts; // the same time as another row
    if (chance(0.03)) ts = null;
    rows.push({
      keys: [chance(0.05) ? null : pick(users)],
      ts,
      values: { amount: amount(), qty: chance(0.15) ? null : int(-5, 20), merchant: chance(0.15) ? null : pick(MERCHANTS) },
    });
  }
  const events: AggEvent[] = [];
  const known = rows.filter((r) => r.ts !== null);
  for (let i = 0; i < 40; i++) {
    const key = chance(0.05) ? null : chance(0.1) ? 'u_none' : pick(users);
    let t: bigint;
    const off = pick([0n, 1n, -1n]);
    if (known.length > 0 && chance(0.5)) {
      const r = pick(known);
      const w = pick(WINDOWS)[1];
      t = r.ts! + (chance(0.5) && w !== undefined ? BigInt(Math.round(w * 1e6)) : 0n) + off; // on a row, or on t - W, or a microsecond off
    } else if (chance(0.5)) t = BASE + BigInt(int(0, spanHours + 2)) * HOUR + off;
    else t = BASE + BigInt(int(-3600, (spanHours + 30) * 3600)) * US + BigInt(int(0, 999_999));
    events.push({ keys: [key], ts: chance(0.03) ? null : t });
  }
  const incrementalFrom = seed % 2 === 1 && known.length > 0 ? BASE + BigInt(int(0, spanHours * 3600)) * US + BigInt(int(0, 999_999)) : undefined;
  return { seed, rows, events, incrementalFrom };
}

function literal(wh: Warehouse, v: Value | undefined): string {
  if (v === null || v === undefined) return 'null';
  if (v instanceof Timestamp) return wh.dialect.timestampLiteral(v);
  if (typeof v === 'string') return wh.dialect.stringLiteral(v);
  return String(v);
}

const tsValue = (micros: bigint | null) => (micros === null ? null : new Timestamp(micros));

export function runPlan(prefix: string, source: string, range?: { start: Timestamp }, perRow = false): AggregateRunPlan {
  return {
    view: 'agg',
    spec: SPEC,
    tables: tileTables(SPEC, { name: `${prefix}_agg` }),
    keys: ['user_id'],
    timestamp: 'ts',
    select: `select user_id, ts, amount, qty, merchant from ${source}`,
    range,
    perRow,
  };
}

/** The source rows' INSERT statement (none for no rows). */
export function insertRows(wh: Warehouse, table: string, rows: AggRow[]): string[] {
  if (rows.length === 0) return [];
  return [`insert into ${table} values ${rows.map((r) => `(${[r.keys[0], tsValue(r.ts), r.values.amount, r.values.qty, r.values.merchant].map((x) => literal(wh, x)).join(', ')})`).join(', ')}`];
}

/** The case's source table `<prefix>_src`, empty. */
export async function createSource(wh: Warehouse, prefix: string): Promise<string> {
  const float = wh.dialect.castTo('null', 'float64').replace(/^cast\(null as (.*)\)$/, '$1');
  const source = `${prefix}_src`;
  await wh.execute([`create table ${source} (user_id varchar(10), ts timestamp, amount ${float}, qty bigint, merchant varchar(10))`]);
  return source;
}

/** The case's tables in `wh`: the source, the view's tiles (built by the run's SQL), the events; and the training plan. */
export async function load(wh: Warehouse, c: AggCase, prefix: string): Promise<PointInTimePlan> {
  const d = wh.dialect;
  const source = await createSource(wh, prefix);
  const cut = c.incrementalFrom;
  const first = cut === undefined ? c.rows : c.rows.filter((r) => r.ts === null || r.ts < cut);
  await wh.execute(insertRows(wh, source, first));
  // both kinds of per-tile relations, each with and without an incremental run: tables, and views of a state per row
  const perRow = c.seed % 4 >= 2;
  const full = renderFullBuild(runPlan(prefix, source), [], d);
  await wh.execute([...full.before, ...full.perTile(perRow)]);
  if (cut !== undefined) {
    await wh.execute(insertRows(wh, source, c.rows.filter((r) => r.ts !== null && r.ts >= cut)));
    // from a little before the cut: rows already loaded are re-read and must not count twice
    const inc = renderIncrementalRun(runPlan(prefix, source, { start: new Timestamp(cut - 1234567n) }, perRow), d);
    await wh.execute(inc.statements, { atomic: inc.atomic });
  }
  return loadEvents(wh, c, prefix);
}

/** The case's training events `<prefix>_events`, and the training plan over them. */
export async function loadEvents(wh: Warehouse, c: AggCase, prefix: string): Promise<PointInTimePlan> {
  const order = wh.dialect.insertionOrderColumn;
  const events = `${prefix}_events`;
  await wh.execute([
    `create table ${events} (event_id bigint, user_id varchar(10), event_timestamp timestamp${order ? '' : `, ${ROW_COLUMN} bigint`})`,
    ...(c.events.length > 0 ? [`insert into ${events} values ${c.events.map((e, i) => `(${[BigInt(i), e.keys[0], tsValue(e.ts), ...(order ? [] : [BigInt(i)])].map((x) => literal(wh, x)).join(', ')})`).join(', ')}`] : []),
  ]);
  return trainPlan(prefix, { name: events }, order);
}

export function trainPlan(prefix: string, events: PointInTimePlan['events']['table'], order: string | undefined): PointInTimePlan {
  const plan = runPlan(prefix, '');
  return {
    service: 'svc',
    events: { table: events, columns: ['event_id', 'user_id', 'event_timestamp'], timestamp: 'event_timestamp', orderColumn: order },
    views: [
      {
        view: 'agg',
        table: plan.tables.events,
        keys: [{ column: 'user_id', event: 'user_id' }],
        timestamp: 'ts',
        features: SPEC.features.map((f) => ({ column: f.name, output: `agg__${f.name}`, type: featureType(f, f.column === '*' ? undefined : INPUT_TYPES[f.column]).type })),
        allFeatures: SPEC.features.map((f) => f.name),
        aggregate: { spec: SPEC, tables: plan.tables },
      },
    ],
    eventTimes: 'dynamic',
  };
}

export function reference(c: AggCase): AggResult[][] {
  return aggregateReference(c.rows, c.events, SPEC.features);
}

function close(a: number, b: number, f: AggFeature): boolean {
  const tol = floatTolerance(f.function);
  return a === b || Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b));
}

export function same(got: Value, want: AggResult, f: AggFeature): boolean {
  if (want === null || got === null) return want === got;
  if (Array.isArray(want)) return Array.isArray(got) && got.length === want.length && got.every((g, i) => same(g, want[i], f));
  if (typeof want === 'number') return (typeof got === 'number' || typeof got === 'bigint') && close(Number(got), want, f);
  return got === want;
}

/** The first difference between the training rows and the reference, or undefined. */
export function check(c: AggCase, expected: AggResult[][], rows: Row[]): string | undefined {
  if (rows.length !== c.events.length) return `${rows.length} rows for ${c.events.length} events`;
  for (let i = 0; i < rows.length; i++) {
    if (Number(rows[i].event_id) !== i) return `row ${i} is event ${String(rows[i].event_id)}: input order lost`;
    for (let j = 0; j < SPEC.features.length; j++) {
      const f = SPEC.features[j];
      const got = rows[i][`agg__${f.name}`];
      if (got === undefined) return `no column agg__${f.name}`;
      if (!same(got, expected[i][j], f)) {
        const e = c.events[i];
        return `event ${i} (key ${e.keys[0]}, t ${e.ts === null ? null : new Timestamp(e.ts).toISOString()}): ${f.name} = ${JSON.stringify(got, big)}, expected ${JSON.stringify(expected[i][j])}`;
      }
    }
  }
  return undefined;
}

const big = (_k: string, v: unknown) => (typeof v === 'bigint' ? Number(v) : v instanceof Timestamp ? v.toISOString() : v);

/** How often the cases reach each edge, so that agreeing with the reference proves something. */
export interface AggCoverage {
  /** a row of the event's key exactly at t (excluded) */
  rowAtT: number;
  /** a row exactly at t - W for one of the windows (included) */
  rowAtWindowStart: number;
  /** a row one microsecond either side of t or of t - W */
  rowOneMicroOff: number;
  /** events on a tile boundary */
  eventOnTileBoundary: number;
  nullKeyEvents: number;
  /** events of a key with no rows */
  keysWithoutRows: number;
  duplicateRows: number;
}

export function tallyCoverage(c: AggCase, cov: AggCoverage): void {
  const tile = BigInt(TILE_SECONDS) * US;
  const widths = WINDOWS.flatMap(([, s]) => (s === undefined ? [] : [BigInt(Math.round(s * 1e6))]));
  const seen = new Set<string>();
  for (const r of c.rows) {
    const k = JSON.stringify([r.keys, String(r.ts), r.values]);
    if (seen.has(k)) cov.duplicateRows++;
    seen.add(k);
  }
  for (const e of c.events) {
    if (e.keys[0] === null) cov.nullKeyEvents++;
    if (e.ts === null || e.keys[0] === null) continue;
    const t = e.ts;
    const mine = c.rows.filter((r) => r.keys[0] === e.keys[0] && r.ts !== null).map((r) => r.ts!);
    if (mine.length === 0) cov.keysWithoutRows++;
    if (mine.includes(t)) cov.rowAtT++;
    if (widths.some((w) => mine.includes(t - w))) cov.rowAtWindowStart++;
    if ([t, ...widths.map((w) => t - w)].some((x) => mine.includes(x - 1n) || mine.includes(x + 1n))) cov.rowOneMicroOff++;
    if (t % tile === 0n) cov.eventOnTileBoundary++;
  }
}
