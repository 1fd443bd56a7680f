/**
 * `fsql serve` on the embedded SQLite store, over real HTTP: values as `fsql get` reads them, rows
 * past their TTL deleted, pushes racing older rows, reading while `fsql sync` writes from another
 * process, `fsql skew-check` passing and failing on a tampered row; then the real command:
 * `fsql api-key create/list/revoke` and `fsql serve --auth --workers 2` (401, 403, both header
 * forms, metrics summed over the workers, a revoked key refused, a clean stop).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { decodeFeatures, encodeFeatures } from '../src/online/codec.js';
import { openOnlineStore } from '../src/online/open.js';
import type { OnlineStore } from '../src/online/store.js';
import { loadProject } from '../src/project/load.js';
import type { Project } from '../src/project/types.js';
import { Timestamp } from '../src/values.js';
import { FSQL_BIN, fsql } from './helpers/project.js';
import { fuzzCases, seedFuzz, sendAll } from './helpers/fuzz.js';
import { fsqlAsync, newestEntity, rawRequest, recentEntities, recentExample, startServer, type TestServer } from './helpers/serve.js';

const GET = '/api/v1/feature-service/get-features';

let dir: string;
let project: Project;
let store: OnlineStore;
let srv: TestServer;

const cli = (...args: string[]) => fsql(['--project-dir', dir, ...args], { cwd: dir });

before(async () => {
  dir = recentExample();
  appendFileSync(join(dir, 'models', 'features.yml'), '  - name: merchant_only\n    description: Merchant risk alone\n    features:\n      - merchant_risk: [risk_score]\n    online: true\n');
  for (const args of [['run'], ['sync']]) {
    const r = cli(...args);
    assert.equal(r.code, 0, r.stderr);
  }
  project = loadProject({ projectDir: dir });
  store = await openOnlineStore(project);
  srv = await startServer(project, store);
});

after(async () => {
  await srv?.close();
  await store?.close();
});

test('get-features on SQLite equals fsql get; a second service orders its own features', async () => {
  const e = newestEntity(dir);
  const r = await srv.post(GET, { params: { featureServiceName: 'fraud_detection', joinKeyMap: e, metadataOptions: { includeNames: true, includeDataTypes: true, includeEffectiveTimes: true, includeServingStatus: true } } });
  assert.equal(r.status, 200, r.text);
  const get = cli('get', '--service', 'fraud_detection', '--key', `user_id=${e.user_id}`, '--key', `merchant_id=${e.merchant_id}`, '--json');
  assert.equal(get.code, 0, get.stderr);
  const expected = JSON.parse(get.stdout).features as { name: string; dataType: unknown; value: unknown; effectiveTime: string; status: string }[];
  assert.deepEqual(r.json.result.features, expected.map((f) => f.value));
  assert.deepEqual(r.json.metadata.features, expected.map((f) => ({ name: f.name, dataType: f.dataType, effectiveTime: f.effectiveTime, status: f.status })));
  assert.ok(expected.every((f) => f.status === 'PRESENT'));
  const m = await srv.post(GET, { params: { feature_service_name: 'merchant_only', join_key_map: { merchant_id: e.merchant_id }, metadata_options: { include_names: true } } });
  assert.equal(m.status, 200, m.text);
  assert.deepEqual(m.json.metadata.features, [{ name: 'merchant_risk.risk_score' }]);
  assert.deepEqual(m.json.result.features, [r.json.result.features[1]]);
});

test('TTL on SQLite: a row past its TTL is deleted by the write that brings it, a live one is served', async () => {
  const week = 7 * 86400_000;
  const push = (user: string, tsMs: number) =>
    srv.post('/push', { push_source_name: 'user_transaction_stats', df: { user_id: [user], event_ts: [new Date(tsMs).toISOString()], txn_count_1h: [1], spend_1h: [1], txn_count_1d: [1], spend_1d: [1], txn_count_7d: [1], spend_7d: [1], avg_amount_7d: [1], max_amount_7d: [1], large_txn_count_1d: [0] } });
  assert.equal((await push('u_live', Date.now() - week + 60_000)).status, 200);
  assert.equal((await push('u_gone', Date.now() - week - 1000)).status, 200);
  const r = await srv.post('/get-online-features', { features: ['user_transaction_stats:txn_count_7d'], entities: { user_id: ['u_live', 'u_gone'] } });
  assert.deepEqual(r.json.results[1].statuses, ['PRESENT', 'NOT_FOUND']);
  assert.deepEqual(r.json.results[1].values, [1, null]);
  const db = new Database(join(dir, 'target', 'online.sqlite'), { readonly: true });
  try {
    assert.equal(db.prepare("select count(*) from fsql_rows where view = 'user_transaction_stats' and entity in ('user_id=u_live', 'user_id=u_gone')").pluck().get(), 1);
  } finally {
    db.close();
  }
});

test('pushes racing older rows on SQLite, and reads while fsql sync writes from another process', async () => {
  const layout = (await store.getLayouts()).find((l) => l.view === 'merchant_risk')!;
  const now = Date.now();
  await Promise.all(
    Array.from({ length: 30 }, async (_, i) => {
      const sync = () => store.write(layout, [{ key: [`m_race_${i}`], ts: Timestamp.fromMillis(now - 120_000), values: { txn_count_30d: 1n, volume_30d: 1, chargeback_rate: 0, risk_score: -1 } }]);
      const push = () => srv.post('/push', { feature_view: 'merchant_risk', df: { merchant_id: [`m_race_${i}`], feature_ts: [new Date(now - 60_000).toISOString()], txn_count_30d: [2], volume_30d: [2], chargeback_rate: [0], risk_score: [i] } });
      await (i % 2 ? Promise.all([sync(), push()]) : Promise.all([push(), sync()]));
    }),
  );
  const feast = await srv.post('/get-online-features', { features: ['merchant_risk:risk_score'], entities: { merchant_id: Array.from({ length: 30 }, (_, i) => `m_race_${i}`) } });
  assert.deepEqual(feast.json.results[1].values, Array.from({ length: 30 }, (_, i) => i));

  const entities = recentEntities(dir, 20);
  const syncing = fsqlAsync(['--project-dir', dir, 'sync', '--full-refresh', '--select', 'user_merchant_pair'], { cwd: dir });
  let done = false;
  void syncing.then(() => (done = true));
  let answered = 0;
  while (!done) {
    const r = await srv.post('/api/v1/feature-service/get-features-batch', { params: { feature_service_name: 'fraud_detection', request_data: entities.map((e) => ({ join_key_map: e })) } });
    assert.equal(r.status, 200, r.text);
    answered++;
  }
  const sync = await syncing;
  assert.equal(sync.code, 0, sync.stderr);
  assert.ok(answered > 3, `${answered} batches answered during the sync`);
});

test('skew-check passes on SQLite and fails when a stored row is tampered with', async () => {
  const ok = cli('skew-check', '--service', 'fraud_detection', '--sample', '100');
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stderr, /100 entities x 13 features, \d+ values present on both sides, 0 difference\(s\)/);
  const e = newestEntity(dir);
  // tamper with the stored text itself, through the codec so the test does not depend on its format
  const layout = (await store.getLayouts()).find((l) => l.view === 'merchant_risk')!;
  const db = new Database(join(dir, 'target', 'online.sqlite'));
  try {
    const row = db.prepare("select entity, features from fsql_rows where view = 'merchant_risk' and entity = ?").get(`merchant_id=${e.merchant_id}`) as { entity: string; features: string };
    const values = decodeFeatures(layout, row.features);
    values.risk_score = (values.risk_score as number) + 1e-9; // off in the ninth decimal is still skew
    const changed = db.prepare("update fsql_rows set features = ? where view = 'merchant_risk' and entity = ?").run(encodeFeatures(layout, values), row.entity);
    assert.equal(changed.changes, 1);
  } finally {
    db.close();
  }
  const bad = cli('skew-check', '--service', 'fraud_detection', '--sample', '100');
  assert.equal(bad.code, 1, bad.stdout + bad.stderr);
  assert.match(bad.stdout, new RegExp(`^DIFF user_id="${e.user_id}", merchant_id="${e.merchant_id}"  merchant_risk\\.risk_score: online \\S+ at \\S+; training \\S+ at \\S+$`, 'm'));
  assert.ok(bad.stdout.trim().split('\n').every((l) => l.includes('merchant_risk.risk_score')), bad.stdout);
});

test('malformed and mutated requests on the real store: never a 5xx, and the server answers normally afterwards', async () => {
  seedFuzz(11);
  const cases = fuzzCases({ mutations: 60, cuts: 10, randomJson: 10, randomBytes: 5 });
  const wrong = await sendAll((c) => srv.raw('POST', c.path, c.body, { 'content-type': 'application/json' }), cases);
  assert.deepEqual(wrong, []);
  const ok = await srv.post(GET, { params: { feature_service_name: 'fraud_detection', join_key_map: newestEntity(dir), metadata_options: { include_serving_status: true } } });
  assert.equal(ok.status, 200, ok.text);
  assert.ok(ok.json.metadata.features.every((f: { status: string }) => f.status === 'PRESENT'));
  assert.ok(!srv.logs.join('').includes('internal error'), srv.logs.join(''));
});

/** Starts `fsql serve` as a user would; resolves with its URL once every worker listens. */
function serve(args: string[]): Promise<{ url: string; child: ChildProcess; stderr: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FSQL_BIN, '--project-dir', dir, 'serve', '--port', '0', ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${err}`)), 20000);
    child.stderr!.on('data', (c) => {
      err += c;
      const m = /workers serving on (http:\/\/\S+)|^Serving .* on (http:\/\/\S+) \(auth/m.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1] ?? m[2], child, stderr: () => err });
      }
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${err}`)));
  });
}

test('fsql api-key + fsql serve --auth --workers 2: 401, 403, Tecton-key and Bearer, summed metrics, revocation', async () => {
  const create = (...args: string[]) => {
    const r = cli('api-key', 'create', ...args);
    assert.equal(r.code, 0, r.stderr);
    const key = r.stdout.trim();
    assert.match(key, /^fsql_[A-Za-z0-9_-]{43}$/);
    assert.ok(!r.stderr.includes(key), 'the key is printed once, on stdout only');
    return { key, id: /API key ([0-9a-f]+)/.exec(r.stderr)![1] };
  };
  const all = create('--description', 'model server');
  const merchant = create('--description', 'risk dashboard', '--service', 'merchant_only');
  assert.equal(cli('api-key', 'create', '--service', 'nope').code, 1);
  const list = cli('api-key', 'list', '--json');
  assert.equal(list.code, 0, list.stderr);
  const records = list.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(records.map((r: { id: string; services: string[] }) => [r.id, r.services]).sort(), [[all.id, []], [merchant.id, ['merchant_only']]].sort());
  assert.ok(!list.stdout.includes(all.key) && !list.stdout.includes(merchant.key));

  const { url, child, stderr } = await serve(['--auth', '--workers', '2']);
  try {
    const body = JSON.stringify({ params: { feature_service_name: 'fraud_detection', join_key_map: newestEntity(dir) } });
    const ask = (headers: Record<string, string>) => rawRequest(url, 'POST', GET, body, headers);
    const none = await ask({});
    assert.equal(none.status, 401);
    assert.equal(none.json.code, 16);
    assert.equal((await ask({ authorization: 'Tecton-key fsql_wrong' })).status, 401);
    for (let i = 0; i < 10; i++) assert.equal((await ask({ authorization: `Tecton-key ${all.key}` })).status, 200);
    for (let i = 0; i < 10; i++) assert.equal((await ask({ authorization: `Bearer ${all.key}` })).status, 200);
    const denied = await ask({ authorization: `Bearer ${merchant.key}` });
    assert.equal(denied.status, 403);
    assert.equal(denied.json.code, 7);
    const allowed = await rawRequest(url, 'POST', GET, JSON.stringify({ params: { feature_service_name: 'merchant_only', join_key_map: { merchant_id: 'm_1' } } }), { authorization: `Tecton-key ${merchant.key}` });
    assert.equal(allowed.status, 200, allowed.text);
    const metrics = await rawRequest(url, 'GET', '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.text, /^fsql_http_requests_total\{service="fraud_detection",endpoint="\/api\/v1\/feature-service\/get-features",status="200"\} 20$/m);
    assert.match(metrics.text, /^fsql_http_requests_total\{service="merchant_only",endpoint="\/api\/v1\/feature-service\/get-features",status="200"\} 1$/m);
    assert.match(metrics.text, /^fsql_http_requests_total\{service="fraud_detection",endpoint="\/api\/v1\/feature-service\/get-features",status="403"\} 1$/m);
    assert.match(metrics.text, /^# TYPE fsql_sync_runs_total counter\nfsql_sync_runs_total\{feature_view="merchant_risk"\} [1-9]/m);
    assert.match(metrics.text, /^fsql_http_requests_total\{service="",endpoint="\/api\/v1\/feature-service\/get-features",status="401"\} 2$/m);
    assert.match(metrics.text, /^fsql_serve_workers 2$/m);

    const revoke = cli('api-key', 'revoke', all.id);
    assert.equal(revoke.code, 0, revoke.stderr);
    assert.equal(cli('api-key', 'revoke', 'ffffffffffff').code, 1);
    // (that a revoked key stops working after the lookup cache's 5 s is serve-api's, on an injected clock)
    assert.ok(!stderr().includes(all.key) && !stderr().includes(merchant.key), 'keys never reach the log');
  } finally {
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  }
});
