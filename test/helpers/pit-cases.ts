/**
 * The random point-in-time cases of the differential test (many keys, ties, TTL boundaries to the
 * second and the microsecond, NULL keys and timestamps, duplicate events, multi-entity views,
 * several views): generated from a seed, loaded into DuckDB, checked against the plain TypeScript
 * reference in pit-reference.ts. Shared by train-differential.test.ts and bigquery-execute.test.ts.
 */
import { ROW_COLUMN, type PitView, type PointInTimePlan } from '../../src/plans/point-in-time.js';
import { renderEventTimes } from '../../src/dialects/point-in-time.js';
import type { Target } from '../../src/project/types.js';
import { Timestamp, type Row, type Value } from '../../src/values.js';
import { DuckDbWarehouse } from '../../src/warehouse/duckdb.js';
import { seededRandom } from '../../src/seeded-random.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { allowedRows, type Cell, type RefEvent, type RefFeatureRow, type RefView } from './pit-reference.js';

const BASE = Timestamp.parse('2024-01-01T00:00:00Z')!.micros;
const SECOND = 1_000_000n;

/** Seeded, so a failing case can be replayed from its seed. */
function rng(seed: number) {
  const next = seededRandom(seed);
  return {
    next,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p: number) => next() < p,
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)],
  };
}
type Rng = ReturnType<typeof rng>;

const ENTITY_SETS = [['user_id'], ['merchant_id'], ['user_id', 'merchant_id']] as const;

export interface GenView extends RefView {
  name: string;
  hasCreated: boolean;
}

export interface GenCase {
  seed: number;
  views: GenView[];
  events: (RefEvent & { id: string; label: boolean | null })[];
  dynamicTimes: boolean;
}

export function generate(seed: number): GenCase {
  const r = rng(seed);
  const large = seed % 50 === 0;
  const users = Array.from({ length: large ? 150 : r.int(1, 6) }, (_, i) => `u${i}`);
  const merchants = Array.from({ length: large ? 40 : r.int(1, 4) }, (_, i) => BigInt(100 + i));
  const key = (k: string): Cell => (r.chance(0.06) ? null : k === 'user_id' ? r.pick(users) : r.pick(merchants));
  const span = large ? 3000 : r.int(5, 60);
  const views: GenView[] = Array.from({ length: r.int(1, 3) }, (_, vi) => {
    const keyColumns = [...r.pick(ENTITY_SETS)];
    const hasCreated = r.chance(0.5);
    const rows: RefFeatureRow[] = [];
    const n = large ? 1500 : r.int(0, 30);
    for (let i = 0; i < n; i++) {
      if (rows.length > 0 && r.chance(0.15)) {
        // a tie on (keys, timestamp): same created_timestamp (a full tie) or another one
        const prev = r.pick(rows);
        rows.push({ ...prev, created: hasCreated && r.chance(0.5) ? BigInt(r.int(0, 3)) * SECOND : prev.created, features: features(r, vi, i) });
        continue;
      }
      rows.push({
        keys: keyColumns.map(key),
        ts: r.chance(0.03) ? null : BASE + BigInt(r.int(0, span)) * SECOND,
        created: hasCreated && !r.chance(0.1) ? BASE + BigInt(r.int(0, 3)) * SECOND : null,
        features: features(r, vi, i),
      });
    }
    return { name: `v${vi}`, keyColumns, ttlSeconds: r.chance(0.3) ? undefined : r.pick([1, 2, 3, 5, 10, 30]), rows, hasCreated };
  });
  const events: GenCase['events'] = [];
  const nEvents = large ? 500 : r.int(0, 25);
  for (let i = 0; i < nEvents; i++) {
    if (events.length > 0 && r.chance(0.1)) {
      events.push({ ...r.pick(events) }); // a duplicate event
      continue;
    }
    let ts: bigint | null = BASE + BigInt(r.int(-3, span + 5)) * SECOND;
    const anchor = r.pick(views).rows.filter((x) => x.ts !== null);
    const keys: Record<string, Cell> = { user_id: key('user_id'), merchant_id: key('merchant_id') };
    if (anchor.length > 0 && r.chance(0.5)) {
      // at a feature row's time, or at its TTL boundary: exactly, a second or a microsecond past it
      const row = r.pick(anchor);
      const v = views.find((x) => x.rows.includes(row))!;
      const ttl = BigInt(v.ttlSeconds ?? 0) * SECOND;
      ts = row.ts! + r.pick([0n, ttl, ttl + 1n, ttl + SECOND, ttl - SECOND, -1n]);
      v.keyColumns.forEach((k, j) => (keys[k] = row.keys[j]));
    }
    if (r.chance(0.04)) ts = null;
    events.push({ id: `e${i}`, keys, ts, label: r.chance(0.1) ? null : r.chance(0.5) });
  }
  return { seed, views, events, dynamicTimes: r.chance(0.25) };
}

function features(r: Rng, view: number, row: number): Cell[] {
  return [r.chance(0.2) ? null : Math.round(r.next() * 1000) / 10, `v${view}r${row}`, r.chance(0.2) ? null : BigInt(r.int(-5, 5))];
}

/** An in-memory DuckDB. */
export async function openDuckDb(): Promise<Warehouse> {
  const target: Target = { name: 'test', type: 'duckdb', schema: 'main', threads: 2, settings: { path: ':memory:' }, onlineStore: { type: 'sqlite' }, serve: { auth: false }, profileFile: 'test' };
  return DuckDbWarehouse.open(target);
}

function literal(wh: Warehouse, v: Cell | Timestamp): string {
  if (v === null) return 'null';
  if (v instanceof Timestamp) return wh.dialect.timestampLiteral(v);
  if (typeof v === 'string') return wh.dialect.stringLiteral(v);
  return String(v);
}

const ts = (micros: bigint | null) => (micros === null ? null : new Timestamp(micros));

/** Creates the case's tables (names starting with `prefix`) and returns its plan for the warehouse. */
export async function load(wh: Warehouse, c: GenCase, prefix: string): Promise<PointInTimePlan> {
  const statements: string[] = [];
  const float = wh.dialect.castTo('null', 'float64').replace(/^cast\(null as (.*)\)$/, '$1');
  const views: PitView[] = c.views.map((v) => {
    const table = `${prefix}_${v.name}`;
    const cols = [...v.keyColumns.map((k) => `${k} ${k === 'user_id' ? 'varchar' : 'bigint'}`), 'feature_ts timestamp', 'created_ts timestamp', `amount ${float}`, 'tag varchar', 'n bigint'];
    statements.push(`create table ${table} (${cols.join(', ')})`);
    if (v.rows.length > 0) {
      const values = v.rows.map((row) => `(${[...row.keys, ts(row.ts), ts(row.created), ...row.features].map((x) => literal(wh, x)).join(', ')})`);
      statements.push(`insert into ${table} values ${values.join(', ')}`);
    }
    return {
      view: v.name,
      table: { name: table },
      keys: v.keyColumns.map((k) => ({ column: k, event: k })),
      timestamp: 'feature_ts',
      createdTimestamp: v.hasCreated ? 'created_ts' : undefined,
      ttlSeconds: v.ttlSeconds,
      features: ['amount', 'tag', 'n'].map((f) => ({ column: f, output: `${v.name}__${f}` })),
      allFeatures: ['amount', 'tag', 'n'],
    };
  });
  const events = `${prefix}_events`;
  // Where the warehouse has no insertion-order column, the events carry their row number.
  const order = wh.dialect.insertionOrderColumn;
  statements.push(`create table ${events} (event_id varchar, user_id varchar, merchant_id bigint, event_timestamp timestamp, label boolean${order ? '' : `, ${ROW_COLUMN} bigint`})`);
  if (c.events.length > 0) {
    const values = c.events.map((e, i) => `(${[e.id, e.keys.user_id, e.keys.merchant_id, ts(e.ts), e.label, ...(order ? [] : [BigInt(i)])].map((x) => literal(wh, x)).join(', ')})`);
    statements.push(`insert into ${events} values ${values.join(', ')}`);
  }
  await wh.execute(statements);
  const columns = ['event_id', 'user_id', 'merchant_id', 'event_timestamp', 'label'];
  const plan: PointInTimePlan = { service: 'svc', events: { table: { name: events }, columns, timestamp: 'event_timestamp', orderColumn: order }, views, eventTimes: 'dynamic' };
  if (!c.dynamicTimes) {
    const [row] = await wh.query(renderEventTimes(plan, wh.dialect));
    plan.eventTimes = row.min_ts instanceof Timestamp && row.max_ts instanceof Timestamp ? { min: row.min_ts, max: row.max_ts } : 'empty';
  }
  return plan;
}

const same = (a: Value, b: Cell) => (a === null || b === null ? a === b : a === b);

/** The reference's answer for every event (outer) and view (inner). */
export function reference(c: GenCase): RefFeatureRow[][][] {
  return c.events.map((e) => c.views.map((v) => allowedRows(v, e)));
}

/** Checks one output against the reference; returns a description of the first difference. */
export function check(c: GenCase, expected: RefFeatureRow[][][], rows: Row[]): string | undefined {
  if (rows.length !== c.events.length) return `${rows.length} rows for ${c.events.length} events`;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    const e = c.events[i];
    const eventTs = row.event_timestamp instanceof Timestamp ? row.event_timestamp.micros : row.event_timestamp;
    if (row.event_id !== e.id || row.user_id !== e.keys.user_id || row.merchant_id !== e.keys.merchant_id || eventTs !== e.ts || row.label !== e.label) {
      return `row ${i}: event columns ${JSON.stringify(row, (_k, v) => (typeof v === 'bigint' ? String(v) : v))} are not event ${e.id}`;
    }
    if (Object.keys(row).slice(0, 5).join() !== 'event_id,user_id,merchant_id,event_timestamp,label') return `row ${i}: columns ${Object.keys(row).join()}`;
    for (let j = 0; j < c.views.length; j++) {
      const v = c.views[j];
      const got = ['amount', 'tag', 'n'].map((f) => row[`${v.name}__${f}`]);
      const allowed = expected[i][j];
      if (allowed.length === 0) {
        if (got.some((x) => x !== null)) return `row ${i} (${e.id}), view ${v.name}: expected NULLs, got ${got.map(String)}`;
      } else if (!allowed.some((a) => a.features.every((f, n) => same(got[n], f)))) {
        return `row ${i} (${e.id} at ${e.ts}), view ${v.name}: got ${got.map(String)}, allowed ${allowed.map((a) => a.features.map(String).join('/')).join(' | ')}`;
      }
    }
  }
  return undefined;
}

/** How often the cases exercise each rule. */
export interface Coverage {
  matched: number;
  ttlExpired: number;
  nullKeyEvents: number;
  fullTies: number;
  createdDecided: number;
}

/** Tallies which rules the case exercises, so the test can tell that the generator reaches them. */
export function tally(c: GenCase, expected: RefFeatureRow[][][], cov: Coverage): void {
  c.events.forEach((e, i) =>
    c.views.forEach((v, j) => {
      const allowed = expected[i][j];
      if (allowed.length === 0) {
        if (v.keyColumns.some((k) => e.keys[k] === null)) cov.nullKeyEvents++;
        if (v.ttlSeconds !== undefined && allowedRows({ ...v, ttlSeconds: undefined }, e).length > 0) cov.ttlExpired++;
        return;
      }
      cov.matched++;
      if (allowed.length > 1) cov.fullTies++;
      const atLatest = v.rows.filter((x) => x.ts === allowed[0].ts && x.keys.every((k, n) => k === allowed[0].keys[n]));
      if (atLatest.length > allowed.length) cov.createdDecided++;
    }),
  );
}
