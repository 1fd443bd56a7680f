/**
 * Online equals offline for an aggregate view (SPEC section 9): `fsql run` builds it, `fsql sync`
 * (in process, its clock at s) stores each user's state in SQLite and in a real redis-server, and
 * `fsql serve` (its clock injected) answers at request times from s to s + sync_horizon with exactly
 * what `fsql train` computes for events at those times and what the brute-force reference says,
 * edges included (a row at r - W, one microsecond either side, a row at r); one microsecond past the
 * horizon the view is MISSING_DATA (Feast: OUTSIDE_MAX_AGE), never a silently wrong window.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseDuration } from '../src/duration.js';
import { Logger } from '../src/log.js';
import { skewCheck } from '../src/offline/skew-check.js';
import { syncViews } from '../src/offline/sync.js';
import { FOLD_BYTES } from '../src/online/aggregate/push.js';
import type { OnlineStore } from '../src/online/store.js';
import type { AggFeature } from '../src/plans/aggregate.js';
import { loadProject } from '../src/project/load.js';
import type { Project } from '../src/project/types.js';
import { Timestamp } from '../src/values.js';
import { openWarehouse } from '../src/warehouse/index.js';
import { aggregateReference, type AggResult, type AggRow } from './helpers/aggregate-reference.js';
import { aggregateView, mini, MINI_YML } from './helpers/mini.js';
import { fsql, makeProject } from './helpers/project.js';
import { startRedis, type RedisServer } from './helpers/redis.js';
import { startServer } from './helpers/serve.js';
import { freshStore, freshStores, type StoreKind } from './helpers/stores.js';

const VIEW = aggregateView(
  `      agg('*', 'count', windows=['1h', '1d']),
      agg('amount', ['sum', 'avg', 'min', 'stddev_samp', 'first'], windows=['1h', '1d', 'lifetime']),
      agg('merchant', ['count_distinct', 'last'], windows=['1d']),
      agg('amount', 'last_n', n=2, windows=['1d'], name='last_2_amounts')`,
  "select user_id, ts, amount, merchant from {{ source('raw', 'payments') }}",
  "\n    sync_horizon='6h',",
);
const YML = `${MINI_YML.replace('      - spend: [spend_1d]', '      - stats')}feature_views:\n  - name: stats\n    push: true\n`;

const US = 1_000_000n;
const HOUR = 3600n * US;
const DAY = 24n * HOUR;
/** the sync time: the start of the wall clock's hour, so the stores (which expire by the wall clock) keep the states for the test */
const S = (BigInt(Date.now()) / 3_600_000n) * HOUR;
const H = 6n * HOUR;
const row = (user: string, offset: bigint, amount: number | null, merchant: string | null): AggRow => ({ keys: [user], ts: S + offset, values: { amount, merchant } });
const ROWS: AggRow[] = [
  row('u1', -2n * DAY - 14n * HOUR, 100, 'm0'), // lifetime only
  row('u1', -DAY, 10, 'm1'), // at s - 1d: leaves the 1d window just after s
  row('u1', -DAY + 1n, 11, 'm1'),
  row('u1', -DAY + 3n * HOUR - 1n, 12, 'm2'),
  row('u1', -DAY + 3n * HOUR, null, 'm2'),
  row('u1', -12n * HOUR, 20, 'm3'), // inside 1d for the whole horizon
  row('u1', -HOUR / 2n, 30, 'm3'),
  row('u1', -HOUR / 2n, 31, 'm4'), // a tie in time
  row('u1', 0n, 40, 'm5'), // at s: enters every window just after s
  row('u1', HOUR / 2n + US / 2n, 50, 'm1'), // after s, before s + H
  row('u1', H, 60, 'm6'), // at s + H: inside no window up to s + H
  row('u1', H + HOUR, 70, 'm7'),
  row('u2', -HOUR, 5, null),
];
/** request times from s to s + H: on rows, on rows + W, one microsecond either side */
const TIMES = [0n, 1n, HOUR / 2n + US / 2n, HOUR / 2n + US / 2n + 1n, 3n * HOUR - 1n, 3n * HOUR, 3n * HOUR + 1n, H - 1n, H].map((o) => S + o);
const PAST = S + H + 1n;
const USERS = ['u1', 'u2'];

function csv(rows: AggRow[]): string {
  return ['user_id,amount,merchant,ts', ...rows.map((r) => [r.keys[0], r.values.amount ?? '', r.values.merchant ?? '', new Timestamp(r.ts!).toSqlText()].join(','))].join('\n') + '\n';
}

function features(): AggFeature[] {
  const f = (name: string, fn: AggFeature['function'], column: string, window: string, n?: number): AggFeature => ({ name, function: fn, column, window, windowSeconds: window === 'lifetime' ? undefined : parseDuration(window), ...(n ? { n } : {}) });
  const out = [f('count_1h', 'count', '*', '1h'), f('count_1d', 'count', '*', '1d')];
  for (const fn of ['sum', 'avg', 'min', 'stddev_samp', 'first'] as const) for (const w of ['1h', '1d', 'lifetime']) out.push(f(`amount_${fn}_${w}`, fn, 'amount', w));
  return [...out, f('merchant_count_distinct_1d', 'count_distinct', 'merchant', '1d'), f('merchant_last_1d', 'last', 'merchant', '1d'), f('last_2_amounts', 'last_n', 'amount', '1d', 2)];
}

/** A served or trained value's text against the reference. */
function agrees(got: unknown, want: AggResult): boolean {
  if (want === null) return got === null || got === '';
  if (typeof want === 'number') return Math.abs(Number(got) - want) <= 1e-9 * Math.max(1, Math.abs(want));
  if (Array.isArray(want)) {
    const list = typeof got === 'string' ? JSON.parse(got) : got; // a CSV cell holds the array's JSON
    return Array.isArray(list) && list.length === want.length && list.every((x, i) => agrees(x, want[i]));
  }
  return got === want;
}

let dir: string;
let project: Project;
let redis: RedisServer;
/** per request time, per user: the training table's row (train's CSV cells by column) */
let trained: Map<string, Record<string, string>>;

before(async () => {
  dir = makeProject(mini({ 'data/payments.csv': csv(ROWS), 'models/stats.sql': VIEW, 'models/schema.yml': YML }));
  const ok = (args: string[]) => {
    const r = fsql(['--project-dir', dir, ...args], { cwd: dir });
    assert.equal(r.code, 0, `fsql ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    return r;
  };
  ok(['run']);
  const events = TIMES.flatMap((t) => USERS.map((u) => `${u},${new Timestamp(t).toSqlText()}`));
  writeFileSync(join(dir, 'events.csv'), ['user_id,event_timestamp', ...events].join('\n') + '\n');
  ok(['train', '--service', 'svc', '--events', 'events.csv', '--out', 'out.csv']);
  const [header, ...lines] = readFileSync(join(dir, 'out.csv'), 'utf8').trimEnd().split('\n');
  const cols = header.split(',');
  trained = new Map(
    lines.map((l) => {
      const cells = l.match(/("([^"]|"")*"|[^,]*)(,|$)/g)!.map((c) => c.replace(/,$/, '').replace(/^"|"$/g, '').replace(/""/g, '"'));
      const r = Object.fromEntries(cols.map((c, i) => [c, cells[i]]));
      return [`${r.user_id}@${Timestamp.parse(r.event_timestamp)!.micros}`, r];
    }),
  );
  project = loadProject({ projectDir: dir });
  redis = await startRedis();
});

after(async () => {
  await redis?.stop();
});

async function syncAt(store: OnlineStore, now: Timestamp): Promise<string[]> {
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk, _e, cb) => (lines.push(String(chunk)), cb()) });
  const wh = await openWarehouse(project);
  try {
    const results = await syncViews(project, wh, store, new Logger('text', false, sink), { now, select: ['stats'] });
    assert.deepEqual(results.map((r) => [r.view, r.status, r.rowsRead]), [['stats', 'success', 2]], lines.join(''));
  } finally {
    await wh.close();
  }
  return lines;
}

for (const kind of ['sqlite', 'redis'] as StoreKind[]) {
  test(`aggregate view online equals train and the reference at request times in [s, s + sync_horizon] (${kind})`, async () => {
    const store = await freshStore(kind, redis.url);
    let now = new Timestamp(S);
    await syncAt(store, now);
    const server = await startServer(project, store, { clock: () => now });
    try {
      const fs = features();
      for (const t of TIMES) {
        now = new Timestamp(t);
        const expected = aggregateReference(ROWS, USERS.map((u) => ({ keys: [u], ts: now.micros })), fs);
        for (const [u, user] of USERS.entries()) {
          const reply = await server.post('/api/v1/feature-service/get-features', { params: { feature_service_name: 'svc', join_key_map: { user_id: user }, metadata_options: { include_names: true, include_serving_status: true } } });
          assert.equal(reply.status, 200, reply.text);
          const names: string[] = reply.json.metadata.features.map((f: { name: string }) => f.name);
          const statuses = new Set(reply.json.metadata.features.map((f: { status: string }) => f.status));
          assert.deepEqual([...statuses], ['PRESENT'], `${user} at ${new Timestamp(t).toISOString()}`);
          const train = trained.get(`${user}@${now.micros}`)!;
          fs.forEach((f, j) => {
            const served = reply.json.result.features[names.indexOf(`stats.${f.name}`)];
            const want = expected[u][j];
            assert.ok(agrees(served, want), `${kind}: ${user} at ${new Timestamp(t).toISOString()}: served ${f.name} = ${JSON.stringify(served)}, reference ${JSON.stringify(want)}`);
            assert.ok(agrees(train[`stats__${f.name}`], want), `${user} at ${new Timestamp(t).toISOString()}: trained ${f.name} = '${train[`stats__${f.name}`]}', reference ${JSON.stringify(want)}`);
          });
        }
      }
      // the metadata endpoint describes each aggregate feature
      const meta = await server.post('/api/v1/feature-service/metadata', { params: { feature_service_name: 'svc' } });
      const sum = meta.json.featureValues.find((f: { name: string }) => f.name === 'stats.amount_sum_1d');
      assert.deepEqual(sum, { name: 'stats.amount_sum_1d', dataType: { type: 'int64' }, description: 'amount_sum_1d: sum(amount) over 1d', aggregation: { function: 'sum', window: '1d', inputColumn: 'amount' } });
      assert.deepEqual(meta.json.featureValues.find((f: { name: string }) => f.name === 'stats.last_2_amounts').aggregation, { function: 'last_n', window: '1d', inputColumn: 'amount', n: 2 });

      // skew-check compares the served windows with train's at one instant: none differ inside the horizon, all past it
      const skewAt = async (t: bigint) => {
        const wh = await openWarehouse(project);
        try {
          return await skewCheck(project, wh, store, new Logger('text', true, new Writable({ write: (_c, _e, cb) => cb() })), { service: 'svc', now: new Timestamp(t) });
        } finally {
          await wh.close();
        }
      };
      const inside = await skewAt(S + 3n * HOUR);
      assert.deepEqual([inside.entities, inside.differences.length], [2, 0], JSON.stringify(inside.differences, (_k, v) => (typeof v === 'bigint' ? Number(v) : v)));
      assert.ok(inside.present > 20, `${inside.present} values present`);
      const late = await skewAt(PAST);
      assert.ok(late.differences.length >= fs.length, `past the horizon every served window is MISSING_DATA: ${late.differences.length} differences`);

      // one microsecond past the horizon: MISSING_DATA, Feast OUTSIDE_MAX_AGE
      now = new Timestamp(PAST);
      const lateReply = await server.post('/api/v1/feature-service/get-features', { params: { feature_service_name: 'svc', join_key_map: { user_id: 'u1' }, metadata_options: { include_serving_status: true } } });
      assert.deepEqual(new Set(lateReply.json.metadata.features.map((f: { status: string }) => f.status)), new Set(['MISSING_DATA']));
      assert.ok(lateReply.json.result.features.every((v: unknown) => v === null));
      const feast = await server.post('/get-online-features', { feature_service: 'svc', entities: { user_id: ['u1'] } });
      assert.equal(feast.status, 200, feast.text);
      assert.deepEqual(feast.json.results.slice(1).map((r: { statuses: string[] }) => r.statuses[0]), fs.map(() => 'OUTSIDE_MAX_AGE'));
      // a later sync moves s: the same time is served again
      await syncAt(store, now);
      const fresh = await server.post('/get-online-features', { feature_service: 'svc', entities: { user_id: ['u1', 'u3'] } });
      const at0 = fresh.json.metadata.feature_names.indexOf('count_1d');
      // u3 has no events, so no state: its windows are empty from the sync on, as train computes them
      assert.deepEqual(fresh.json.results[at0].statuses, ['PRESENT', 'PRESENT']);
      const want = aggregateReference(ROWS, ['u1', 'u3'].map((u) => ({ keys: [u], ts: now.micros })), fs);
      assert.deepEqual(fresh.json.results[at0].values.map(Number), [want[0][1], want[1][1]].map(Number));
      const empty = await server.post('/api/v1/feature-service/get-features', { params: { feature_service_name: 'svc', join_key_map: { user_id: 'u3' }, metadata_options: { include_names: true, include_serving_status: true } } });
      const names: string[] = empty.json.metadata.features.map((f: { name: string }) => f.name);
      fs.forEach((f, j) => assert.ok(agrees(empty.json.result.features[names.indexOf(`stats.${f.name}`)], want[1][j]), `u3 ${f.name}: ${JSON.stringify(empty.json.result.features[names.indexOf(`stats.${f.name}`)])}`));
      assert.deepEqual(new Set(empty.json.metadata.features.map((f: { status: string }) => f.status)), new Set(['PRESENT']));
          } finally {
      await server.close();
      await store.close();
    }
  });
}

/**
 * Raw events pushed online (SPEC section 12) join their entity's windows at once: the served values
 * equal the reference over the synced rows plus the pushed ones; the same row pushed twice counts
 * once; an entity with no state starts one; events outside [s, s + H) change nothing; a log past
 * FOLD_BYTES is folded into the state, also when two servers push to one entity at once and both
 * fold (compare and set), and the same row pushed after its fold still counts once.
 */
for (const kind of ['sqlite', 'redis'] as StoreKind[]) {
  test(`events pushed into an aggregate view are served at once, each counted once (${kind})`, async () => {
    const [store, second] = await freshStores(kind, redis.url, 2);
    let now = new Timestamp(S + 2n * HOUR);
    await syncAt(store, new Timestamp(S));
    const one = await startServer(project, store, { clock: () => now });
    const other = await startServer(project, second, { clock: () => now });
    const body = (rows: AggRow[]) => ({
      feature_view: 'stats',
      to: 'online',
      df: { user_id: rows.map((r) => r.keys[0]), ts: rows.map((r) => new Timestamp(r.ts!).toISOString()), amount: rows.map((r) => r.values.amount), merchant: rows.map((r) => r.values.merchant) },
    });
    /** `n` events of `user` a microsecond apart from `from`: enough make a log longer than FOLD_BYTES */
    const many = (user: string, from: bigint, n: number) => Array.from({ length: n }, (_x, k) => row(user, from + BigInt(k), k % 5 === 0 ? null : k, `m${k % 7}`));
    const log = async (user: string) => (await store.read([{ layout: (await store.getLayouts()).find((l) => l.view === 'stats')!, key: [user] }]))[0]?.pushed ?? '';
    try {
      const pushed = [row('u1', 2n * HOUR - 10n * US, 5, 'm9'), row('u1', HOUR, null, 'm1'), row('u9', HOUR, 7, 'm2')];
      const first = await one.post('/push', body(pushed));
      assert.equal(first.status, 200, first.text);
      assert.deepEqual([first.json.accepted, first.json.outside], [3, 0]);
      const again = await one.post('/push', body(pushed.slice(0, 1)));
      assert.deepEqual([again.json.accepted, again.json.outside], [1, 0], 'taken again: it counts once when served');
      const outside = await one.post('/push', body([row('u1', -HOUR, 1, 'm1'), row('u2', -1n, 1, 'm1')]));
      assert.deepEqual([outside.json.accepted, outside.json.outside], [0, 2]);
      // two servers push to one entity at once, each enough to fold its log: every event lands
      const big = [many('u9', HOUR + US, 300), many('u9', HOUR + 2n * US / 3n, 300)];
      const [a, b] = await Promise.all([one.post('/push', body(big[0])), other.post('/push', body(big[1]))]);
      assert.deepEqual([a.json.accepted, b.json.accepted], [300, 300], `${a.text} ${b.text}`);
      assert.ok((await log('u9')).length < FOLD_BYTES, 'a long log is folded into the state');
      // a folded event pushed again is in the state's raw rows: it still counts once
      assert.equal((await one.post('/push', body(big[0].slice(0, 2)))).json.accepted, 2);
      assert.ok((await log('u9')).length > 0);
      // a fold leaves the last two minutes' events in the log (a sync dated a minute back may write over the state)
      const recent = many('u1', 2n * HOUR - 60n * US, 300);
      assert.equal((await one.post('/push', body(recent))).json.accepted, 300);
      const kept = await log('u1');
      assert.ok(kept.length > FOLD_BYTES, `the recent events stay in the log (${kept.length} bytes)`);
      // the fold took u1's older event although the log's first one (pushed first) is recent: a log is in push order, not time order
      assert.ok(!kept.includes(`,${S + HOUR},`), 'the older event pushed to u1 is folded out of its log');

      const all = [...ROWS, ...pushed, ...big.flat(), ...recent];
      const fs = features();
      for (const t of [S + 2n * HOUR, S + 2n * HOUR + 1n, S + 3n * HOUR]) {
        now = new Timestamp(t);
        const expected = aggregateReference(all, ['u1', 'u9'].map((u) => ({ keys: [u], ts: t })), fs);
        for (const [u, user] of ['u1', 'u9'].entries()) {
          const reply = await one.post('/api/v1/feature-service/get-features', { params: { feature_service_name: 'svc', join_key_map: { user_id: user }, metadata_options: { include_names: true } } });
          const names: string[] = reply.json.metadata.features.map((f: { name: string }) => f.name);
          fs.forEach((f, j) => {
            const served = reply.json.result.features[names.indexOf(`stats.${f.name}`)];
            assert.ok(agrees(served, expected[u][j]), `${kind}: ${user} at ${now.toISOString()}: served ${f.name} = ${JSON.stringify(served)}, reference ${JSON.stringify(expected[u][j])}`);
          });
        }
      }
      const metrics = await one.get('/metrics');
      assert.match(metrics.text, /fsql_push_rows_total\{feature_view="stats",outcome="accepted"\} 606/);
      assert.match(metrics.text, /fsql_push_rows_total\{feature_view="stats",outcome="outside_horizon"\} 2/);
    } finally {
      await one.close();
      await other.close();
      await store.close();
      await second.close();
    }
  });
}
