/**
 * `fsql serve` on a real redis-server (started for this file), over real HTTP: the example
 * project's features after `fsql run` + `fsql sync`, every endpoint, TTL expiry set on each key
 * for Redis to do itself, pushes racing older rows, `fsql skew-check` passing and then failing when a value is
 * tampered with in Redis, and 503s when Redis goes away.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { decodeStored, encodeStored } from '../src/online/codec.js';
import { entityId, RedisKeys } from '../src/online/keys.js';
import { openOnlineStore } from '../src/online/open.js';
import type { OnlineStore } from '../src/online/store.js';
import { loadProject } from '../src/project/load.js';
import type { Project } from '../src/project/types.js';
import { Timestamp } from '../src/values.js';
import { fsql } from './helpers/project.js';
import { startRedis, type RedisServer } from './helpers/redis.js';
import { fuzzCases, seedFuzz, sendAll } from './helpers/fuzz.js';
import { fsqlAsync, newestEntity, recentEntities, recentExample, startServer, type TestServer } from './helpers/serve.js';

const GET = '/api/v1/feature-service/get-features';
const ALL = { include_names: true, include_effective_times: true, include_data_types: true, include_slo_info: true, include_serving_status: true };

let redis: RedisServer;
let client: Redis;
let dir: string;
let project: Project;
let store: OnlineStore;
let srv: TestServer;

// cwd: the project (DuckDB finds the relative source path data/transactions.csv in the cwd first, and the repository has its own)
const cli = (...args: string[]) => fsql(['--project-dir', dir, '--target', 'redis', ...args], { cwd: dir });

before(async () => {
  redis = await startRedis();
  client = new Redis(redis.url);
  client.on('error', () => undefined); // the last test stops Redis under it
  dir = recentExample(redis.url);
  const run = fsql(['--project-dir', dir, 'run'], { cwd: dir });
  assert.equal(run.code, 0, run.stderr);
  const sync = cli('sync');
  assert.equal(sync.code, 0, sync.stderr);
  project = loadProject({ projectDir: dir, target: 'redis' });
  store = await openOnlineStore(project);
  srv = await startServer(project, store);
});

after(async () => {
  await srv?.close();
  await store?.close();
  client?.disconnect();
  await redis?.stop();
});

test('get-features on Redis: every value, type, time and status as `fsql get` reads them', async () => {
  const e = newestEntity(dir);
  const r = await srv.post(GET, { params: { workspace_name: 'redis', feature_service_name: 'fraud_detection', join_key_map: e, metadata_options: ALL } });
  assert.equal(r.status, 200, r.text);
  const get = cli('get', '--service', 'fraud_detection', '--key', `user_id=${e.user_id}`, '--key', `merchant_id=${e.merchant_id}`, '--json');
  assert.equal(get.code, 0, get.stderr);
  const expected = JSON.parse(get.stdout).features as { name: string; dataType: { type: string }; value: unknown; effectiveTime: string; status: string }[];
  assert.equal(expected.length, 13);
  assert.deepEqual(r.json.result.features, expected.map((f) => f.value));
  assert.deepEqual(
    r.json.metadata.features.map((f: Record<string, unknown>) => [f.name, f.dataType, f.effectiveTime, f.status]),
    expected.map((f) => [f.name, f.dataType, f.effectiveTime, f.status]),
  );
  assert.ok(expected.every((f) => f.status === 'PRESENT'), 'the newest entity has every value within its TTL');
  assert.equal(typeof r.json.result.features[r.json.metadata.features.findIndex((f: { name: string }) => f.name === 'user_transaction_stats.txn_count_7d')], 'string');
  assert.ok(r.json.metadata.sloInfo.storeMaxLatency > 0);
});

test('batch of 50 entities, Feast and metadata agree with get-features', async () => {
  const entities = recentEntities(dir, 50);
  const batch = await srv.post('/api/v1/feature-service/get-features-batch', { params: { featureServiceName: 'fraud_detection', requestData: entities.map((e) => ({ joinKeyMap: e })), metadataOptions: { includeServingStatus: true, includeNames: true } } });
  assert.equal(batch.status, 200, batch.text);
  assert.equal(batch.json.result.length, 50);
  for (const i of [0, 17, 49]) {
    const one = await srv.post(GET, { params: { feature_service_name: 'fraud_detection', join_key_map: entities[i] } });
    assert.deepEqual(batch.json.result[i].features, one.json.result.features);
  }
  const feast = await srv.post('/get-online-features', { feature_service: 'fraud_detection', entities: { user_id: entities.map((e) => e.user_id), merchant_id: entities.map((e) => e.merchant_id) } });
  assert.equal(feast.status, 200, feast.text);
  const names: string[] = feast.json.metadata.feature_names;
  const col = feast.json.results[names.indexOf('txn_count_7d')];
  const tectonIndex = 12;
  entities.forEach((_, i) => {
    const t = batch.json.result[i].features[tectonIndex];
    assert.equal(col.values[i] === null ? null : String(col.values[i]), t);
    if (batch.json.metadata.features[tectonIndex].status[i] === 'PRESENT') assert.equal(col.statuses[i], 'PRESENT');
    else assert.ok(['NOT_FOUND', 'OUTSIDE_MAX_AGE'].includes(col.statuses[i]), col.statuses[i]);
  });
  const meta = await srv.post('/api/v1/feature-service/metadata', { params: { featureServiceName: 'fraud_detection' } });
  assert.deepEqual(meta.json.featureValues.map((f: { name: string }) => f.name), batch.json.metadata.features.map((f: { name: string }) => f.name));
  const list = await srv.get('/api/v1/feature-services');
  assert.equal(list.json.featureServices[0].featureValues.length, 13);
  assert.equal((await srv.get('/health')).status, 200);
  const metrics = (await srv.get('/metrics')).text;
  for (const v of ['merchant_risk', 'user_merchant_pair', 'user_transaction_stats']) {
    assert.match(metrics, new RegExp(`^fsql_feature_freshness_seconds\\{feature_view="${v}"\\} \\d`, 'm'));
    // sync runs and rows, kept in the store by every sync process
    assert.match(metrics, new RegExp(`^fsql_sync_runs_total\\{feature_view="${v}"\\} [1-9]\\d*$`, 'm'));
    assert.match(metrics, new RegExp(`^fsql_sync_rows_total\\{feature_view="${v}"\\} [1-9]\\d*$`, 'm'));
    assert.match(metrics, new RegExp(`^fsql_sync_failures_total\\{feature_view="${v}"\\} 0$`, 'm'));
    const last = Number(new RegExp(`^fsql_sync_last_success_timestamp_seconds\\{feature_view="${v}"\\} (\\S+)$`, 'm').exec(metrics)?.[1]);
    assert.ok(Math.abs(last - Date.now() / 1000) < 3600, `last success ${last}`);
    assert.match(metrics, new RegExp(`^fsql_sync_duration_seconds\\{feature_view="${v}"\\} \\d`, 'm'));
  }
});

test('TTL on Redis: each key expires at ts + ttl, and a row already past it is removed at once and served as MISSING_DATA', async () => {
  const ttlMs = 3 * 86400_000;
  const push = (merchant: string, tsMs: number) =>
    srv.post('/push', { feature_view: 'merchant_risk', df: { merchant_id: [merchant], feature_ts: [new Date(tsMs).toISOString()], txn_count_30d: [1], volume_30d: [2.5], chargeback_rate: [0], risk_score: [0.5] } });
  const key = (merchant: string) => new RedisKeys({ project: 'fraud_features', target: 'redis' }).row('merchant_risk', entityId({ view: 'merchant_risk', joinKeys: [{ name: 'merchant_id', type: { type: 'string' } }] }, [merchant])!);
  const ask = (merchant: string) => srv.post(GET, { params: { feature_service_name: 'fraud_detection', join_key_map: { user_id: 'u_none', merchant_id: merchant }, metadata_options: { include_serving_status: true, include_names: true } } });
  const live = Date.now() - ttlMs + 60_000;
  assert.equal((await push('m_live', live)).status, 200);
  assert.equal(Number(await client.call('PEXPIRETIME', key('m_live'))), live + ttlMs);
  const served = await ask('m_live');
  assert.equal(served.json.metadata.features[1].name, 'merchant_risk.risk_score');
  assert.equal(served.json.metadata.features[1].status, 'PRESENT');
  assert.equal(served.json.result.features[1], 0.5);
  const gone = await push('m_gone', Date.now() - ttlMs - 1000);
  assert.deepEqual(gone.json, { feature_view: 'merchant_risk', rows: 1, written: 1, stale: 0 });
  assert.equal(await client.exists(key('m_gone')), 0);
  const missing = await ask('m_gone');
  assert.equal(missing.json.metadata.features[1].status, 'MISSING_DATA');
  assert.equal(missing.json.result.features[1], null);
});

test('pushes racing older rows: the newer row wins whichever lands last, also against a real fsql sync', async () => {
  const layout = (await store.getLayouts()).find((l) => l.view === 'merchant_risk')!;
  const now = Date.now();
  await Promise.all(
    Array.from({ length: 40 }, async (_, i) => {
      const newer = Timestamp.fromMillis(now - 60_000);
      const older = Timestamp.fromMillis(now - 120_000);
      const sync = () => store.write(layout, [{ key: [`m_race_${i}`], ts: older, values: { txn_count_30d: 1n, volume_30d: 1, chargeback_rate: 0, risk_score: -1 } }]);
      const push = () => srv.post('/push', { feature_view: 'merchant_risk', df: { merchant_id: [`m_race_${i}`], feature_ts: [newer.toISOString()], txn_count_30d: ['2'], volume_30d: [2], chargeback_rate: [0], risk_score: [i] } });
      if (i % 2) await Promise.all([sync(), push()]);
      else await Promise.all([push(), sync()]);
    }),
  );
  const feast = await srv.post('/get-online-features', { features: ['merchant_risk:risk_score'], entities: { merchant_id: Array.from({ length: 40 }, (_, i) => `m_race_${i}`) } });
  assert.deepEqual(feast.json.results[1].values, Array.from({ length: 40 }, (_, i) => i));

  // a push newer than the offline table, then a real sync re-reading the last day (lookback) for that user
  const e = newestEntity(dir);
  const pushed = new Date(now - 30_000).toISOString();
  const values = { txn_count_1h: ['99'], spend_1h: [1.25], txn_count_1d: ['99'], spend_1d: [1.25], txn_count_7d: ['99'], spend_7d: [1.25], avg_amount_7d: [1.25], max_amount_7d: [1.25], large_txn_count_1d: ['0'] };
  const push = await srv.post('/push', { feature_view: 'user_transaction_stats', df: { user_id: [e.user_id], event_ts: [pushed], ...values } });
  assert.deepEqual(push.json, { feature_view: 'user_transaction_stats', rows: 1, written: 1, stale: 0 });
  const [sync] = await Promise.all([fsqlAsync(['--project-dir', dir, '--target', 'redis', 'sync'], { cwd: dir }), srv.post(GET, { params: { feature_service_name: 'fraud_detection', join_key_map: e } })]);
  assert.equal(sync.code, 0, sync.stderr);
  assert.match(sync.stderr, /user_transaction_stats: [1-9]\d* entities read/);
  const r = await srv.post(GET, { params: { feature_service_name: 'fraud_detection', join_key_map: e, metadata_options: { include_effective_times: true } } });
  assert.equal(r.json.result.features[12], '99');
  assert.equal(r.json.metadata.features[12].effectiveTime, pushed);
});

test('join key values with Redis key syntax in them stay apart and never touch other keys', async () => {
  // none of them is a merchant of the example (the skew check below compares every synced one)
  const tricky = ['q_7', 'q_7 ', 'q:{7}*', 'q_7}', '{q_7}', 'merchant_id=q_7', 'q_7,user_id=u_1', '\r\nFLUSHALL\r\n', '*', 'q%5F7', '💳'];
  const before = await client.dbsize();
  const ts = new Date(Date.now() - 60_000).toISOString();
  const n = tricky.length;
  const push = await srv.post('/push', { feature_view: 'merchant_risk', df: { merchant_id: tricky, feature_ts: new Array(n).fill(ts), txn_count_30d: tricky.map((_, i) => i), volume_30d: new Array(n).fill(1), chargeback_rate: new Array(n).fill(0), risk_score: tricky.map((_, i) => i) } });
  assert.equal(push.status, 200, push.text);
  assert.equal(push.json.written, n);
  const r = await srv.post('/get-online-features', { features: ['merchant_risk:risk_score'], entities: { merchant_id: tricky } });
  assert.deepEqual(r.json.results[1].values, tricky.map((_, i) => i));
  assert.equal(await client.dbsize(), before + n, 'one new key per entity, nothing else touched');
});

test('skew-check passes on the synced example and fails when a value is tampered with in Redis', async () => {
  // a fresh sync of the pushed user (the previous test pushed a value the offline table lacks)
  const full = cli('sync', '--full-refresh', '--select', 'user_transaction_stats');
  assert.equal(full.code, 0, full.stderr);
  const ok = cli('skew-check', '--service', 'fraud_detection', '--sample', '200');
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stderr, /200 entities x 13 features, \d+ values present on both sides, 0 difference\(s\)/);
  const present = Number(/(\d+) values present/.exec(ok.stderr)![1]);
  assert.ok(present > 2000, `${present} values compared`);

  const e = newestEntity(dir);
  const key = new RedisKeys({ project: 'fraud_features', target: 'redis' }).row('user_transaction_stats', entityId({ view: 'user_transaction_stats', joinKeys: [{ name: 'user_id', type: { type: 'string' } }] }, [e.user_id])!);
  // tamper with the stored text itself, through the codec so the test does not depend on its format
  const layout = (await store.getLayouts()).find((l) => l.view === 'user_transaction_stats')!;
  const text = await client.get(key);
  assert.ok(text, `no Redis key ${key}`);
  const row = decodeStored(layout, text);
  row.values.txn_count_7d = (row.values.txn_count_7d as bigint) + 1n;
  assert.equal(await client.set(key, encodeStored(layout, { key: [e.user_id], ts: row.ts, created: row.created, values: row.values }), 'KEEPTTL'), 'OK');
  const bad = cli('skew-check', '--service', 'fraud_detection', '--sample', '200');
  assert.equal(bad.code, 1, bad.stdout + bad.stderr);
  const diffs = bad.stdout.trim().split('\n');
  assert.equal(diffs.length, 1, bad.stdout);
  assert.match(diffs[0], new RegExp(`^DIFF user_id="${e.user_id}", merchant_id="${e.merchant_id}"  user_transaction_stats\\.txn_count_7d: online (\\d+) at \\S+; training (\\d+) at \\S+$`));
  assert.match(bad.stderr, /1 difference\(s\)/);
});

test('malformed and mutated requests on the real store: never a 5xx, and the server answers normally afterwards', async () => {
  seedFuzz(7);
  const cases = fuzzCases({ mutations: 60, cuts: 10, randomJson: 10, randomBytes: 5 });
  const wrong = await sendAll((c) => srv.raw('POST', c.path, c.body, { 'content-type': 'application/json' }), cases);
  assert.deepEqual(wrong, []);
  const ok = await srv.post(GET, { params: { feature_service_name: 'fraud_detection', join_key_map: newestEntity(dir), metadata_options: { include_serving_status: true } } });
  assert.equal(ok.status, 200, ok.text);
  assert.ok(ok.json.metadata.features.every((f: { status: string }) => f.status === 'PRESENT'));
  assert.ok(!srv.logs.join('').includes('internal error'), srv.logs.join(''));
});

test('Redis gone: get-features and /health answer 503 with gRPC 14, and the server stays up', async () => {
  await redis.stop();
  const r = await srv.post(GET, { params: { feature_service_name: 'fraud_detection', join_key_map: newestEntity(dir) } });
  assert.equal(r.status, 503, r.text);
  assert.deepEqual(Object.keys(r.json), ['error', 'message', 'code']);
  assert.equal(r.json.code, 14);
  assert.match(r.json.message, /Redis/);
  const h = await srv.get('/health');
  assert.equal(h.status, 503);
  assert.equal(h.json.code, 14);
  const bad = await srv.post(GET, '{"params":');
  assert.equal(bad.status, 400);
  const m = await srv.get('/metrics');
  assert.equal(m.status, 200);
  assert.match(m.text, /fsql_online_store_errors_total\{endpoint="\/api\/v1\/feature-service\/get-features"\} [1-9]/);
});
