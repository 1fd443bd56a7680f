/**
 * Fuzzing the feature server: thousands of malformed bodies (random bytes, cut JSON, wrong types
 * at every position of valid requests, huge and deeply nested JSON, prototype keys) at every
 * endpoint. Every answer must be a 4xx JSON error (or a 200 where a mutation happens to be valid),
 * never a 5xx, and the server must answer normally afterwards. Requests carrying fields fsql does
 * not use must be answered exactly as without them.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadProject } from '../src/project/load.js';
import { Timestamp } from '../src/values.js';
import { MemoryStore } from './helpers/memory-store.js';
import { copyExample } from './helpers/project.js';
import { EXAMPLE_LAYOUTS, startServer, type HttpReply, type TestServer } from './helpers/serve.js';

let srv: TestServer;
let store: MemoryStore;

/** mulberry32: the same sequence on every run, so a failure can be reproduced */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(20240531);
const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];

function randomScalar(): unknown {
  return pick<() => unknown>([
    () => null,
    () => true,
    () => false,
    () => Math.floor(rand() * 1e6) - 5e5,
    () => rand() * 1e300,
    () => -0,
    () => 9007199254740993,
    () => 1e308 * 10,
    () => '',
    () => 'u_1001',
    () => '9223372036854775808',
    () => '-9223372036854775809',
    () => '💥\u0000\u202e',
    () => "'; DROP TABLE features; --",
    () => 'fsql:{user}:*',
    () => '\r\nFLUSHALL\r\n',
    () => 'x'.repeat(Math.floor(rand() * 5000)),
    () => '__proto__',
    () => 'constructor',
  ])();
}

function randomValue(depth = 0): unknown {
  const r = rand();
  if (depth > 3 || r < 0.5) return randomScalar();
  if (r < 0.75) return Array.from({ length: Math.floor(rand() * 4) }, () => randomValue(depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = Math.floor(rand() * 4); i > 0; i--) o[pick(['a', 'params', 'join_key_map', 'user_id', '__proto__', 'constructor', 'features', 'df'])] = randomValue(depth + 1);
  return o;
}

const VALID: [string, () => Record<string, unknown>][] = [
  ['/api/v1/feature-service/get-features', () => ({ params: { workspace_name: 'fraud_features', feature_service_name: 'fraud_detection', join_key_map: { user_id: 'u_1001', merchant_id: 'm_7' }, request_context_map: { amount: 3 }, metadata_options: { include_names: true, include_serving_status: true, include_data_types: true, include_effective_times: true } } })],
  ['/api/v1/feature-service/get-features-batch', () => ({ params: { featureServiceName: 'fraud_detection', requestData: [{ joinKeyMap: { user_id: 'u_1001', merchant_id: 'm_7' } }, { join_key_map: { user_id: 'u_2', merchant_id: 'm_7' } }], metadataOptions: { includeNames: true } } })],
  ['/api/v1/feature-service/metadata', () => ({ params: { featureServiceName: 'fraud_detection', workspaceName: 'dev' } })],
  ['/get-online-features', () => ({ feature_service: 'fraud_detection', entities: { user_id: ['u_1001', 'u_2'], merchant_id: ['m_7', 'm_8'] } })],
  ['/get-online-features', () => ({ features: ['merchant_risk:risk_score', 'user_transaction_stats:txn_count_7d'], entities: { user_id: ['u_1001'], merchant_id: ['m_7'] }, full_feature_names: true })],
  ['/push', () => ({ feature_view: 'merchant_risk', df: { merchant_id: ['m_fuzz'], feature_ts: [new Date(Date.now() - 3600_000).toISOString()], txn_count_30d: ['3'], volume_30d: [1.5], chargeback_rate: [0.1], risk_score: [2] }, to: 'online' })],
];

/** Replaces one random node of a JSON tree by a random value (a copy). */
function mutate(tree: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(tree));
  const nodes: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach((x, i) => (nodes.push({ parent: v, key: i }), walk(x)));
    else if (v && typeof v === 'object') for (const k of Object.keys(v)) nodes.push({ parent: v as Record<string, unknown>, key: k }), walk((v as Record<string, unknown>)[k]);
  };
  walk(copy);
  const n = pick(nodes);
  const choice = rand();
  if (choice < 0.15 && !Array.isArray(n.parent)) delete (n.parent as Record<string, unknown>)[n.key as string];
  else (n.parent as Record<string | number, unknown>)[n.key] = randomValue();
  return copy;
}

function cut(text: string): string {
  return text.slice(0, Math.floor(rand() * text.length));
}

function randomBytes(n: number): Buffer {
  return Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
}

before(async () => {
  const project = loadProject({ projectDir: copyExample() });
  store = new MemoryStore();
  for (const l of EXAMPLE_LAYOUTS) await store.putLayout(l);
  const ts = Timestamp.fromMillis(Date.now() - 3600_000);
  await store.write(EXAMPLE_LAYOUTS[0], [{ key: ['u_1001'], ts, values: { txn_count_7d: 5n, spend_7d: 10 } }]);
  await store.write(EXAMPLE_LAYOUTS[1], [{ key: ['m_7'], ts, values: { risk_score: 1, chargeback_rate: 0.1 } }]);
  srv = await startServer(project, store);
});

after(() => srv.close());

function checkAnswer(r: HttpReply, what: string): void {
  assert.ok(r.status === 200 || (r.status >= 400 && r.status < 500), `${what}: status ${r.status} ${r.text.slice(0, 300)}`);
  assert.ok(r.json !== undefined, `${what}: the answer is not JSON: ${r.text.slice(0, 200)}`);
  if (r.status !== 200) {
    assert.deepEqual(Object.keys(r.json), ['error', 'message', 'code'], what);
    assert.equal(typeof r.json.message, 'string');
    assert.ok(r.json.message.length < 2000, `${what}: message of ${r.json.message.length} characters`);
    assert.ok(Number.isInteger(r.json.code) && r.json.code > 0, what);
  }
}

async function inParallel<T>(items: T[], width: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

test('thousands of malformed bodies: never a 5xx, always a JSON error, the server stays up', async () => {
  // the metadata endpoint reads no join keys: a bad join_key_map does not concern it
  const cases: { path: string; body: Buffer | string; what: string; mustFail: boolean }[] = [];
  for (const [path, valid] of VALID) {
    const text = JSON.stringify(valid());
    for (let i = 0; i < 300; i++) cases.push({ path, body: JSON.stringify(mutate(valid())), what: `mutation ${i} of ${path}`, mustFail: false });
    for (let i = 0; i < 60; i++) cases.push({ path, body: cut(text), what: `cut ${path}`, mustFail: true });
    for (let i = 0; i < 40; i++) cases.push({ path, body: JSON.stringify(randomValue()), what: `random JSON to ${path}`, mustFail: false });
    for (let i = 0; i < 30; i++) cases.push({ path, body: randomBytes(Math.floor(rand() * 300) + 1), what: `random bytes to ${path}`, mustFail: true });
    cases.push({ path, body: '['.repeat(200_000) + ']'.repeat(200_000), what: 'deep array', mustFail: true });
    cases.push({ path, body: '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000), what: 'deep object', mustFail: true });
    cases.push({ path, body: '['.repeat(500_000), what: 'unclosed deep array', mustFail: true });
    cases.push({ path, body: `{"params":{"feature_service_name":"fraud_detection","join_key_map":{"user_id":"u","merchant_id":${'['.repeat(50_000)}${']'.repeat(50_000)}}}}`, what: 'deep join key', mustFail: !path.endsWith('/metadata') });
    cases.push({ path, body: JSON.stringify({ params: { feature_service_name: 'x'.repeat(900_000) } }), what: 'huge name', mustFail: true });
    cases.push({ path, body: `{"params":{"feature_service_name":"fraud_detection","join_key_map":{${Array.from({ length: 20000 }, (_, i) => `"k${i}":1`).join(',')}}}}`, what: 'wide map', mustFail: !path.endsWith('/metadata') });
    cases.push({ path, body: '"' + '\\u0000'.repeat(100000) + '"', what: 'string of NULs', mustFail: true });
    cases.push({ path, body: '1e999999', what: 'infinite number', mustFail: true });
  }
  let failures = 0;
  await inParallel(cases, 16, async (c) => {
    const r = await srv.raw('POST', c.path, c.body, { 'content-type': 'application/json' });
    checkAnswer(r, c.what);
    if (c.mustFail && r.status === 200) {
      failures++;
      console.log(`${c.what}: ${String(c.body).slice(0, 200)} -> ${r.text.slice(0, 200)}`);
    }
  });
  assert.equal(failures, 0, 'malformed bodies answered 200');
  assert.ok(cases.length > 2500, `${cases.length} cases`);
  // odd methods, paths and headers
  for (const [method, path] of [['DELETE', '/push'], ['PUT', '/metrics'], ['POST', '/health'], ['GET', '/%00%ff'], ['POST', '/api/v1/feature-service/get-features/../metadata'], ['OPTIONS', '*']]) {
    checkAnswer(await srv.raw(method, path, method === 'GET' ? undefined : '{}'), `${method} ${path}`);
  }
  const health = await srv.get('/health');
  assert.equal(health.status, 200);
  const ok = await srv.post(VALID[0][0], VALID[0][1]());
  assert.equal(ok.status, 200);
  assert.equal(ok.json.result.features[12], '5');
  assert.ok(!srv.logs.join('').includes('internal error'), srv.logs.join('').slice(0, 2000));
});

test('fields fsql does not use are accepted and change nothing', async () => {
  const extras = (): Record<string, unknown> => ({ [`x_${Math.floor(rand() * 1e6)}`]: randomValue(), featureServiceId: null, allowPartialResults: rand() < 0.5, requestOptions: { readFromCache: true, writeToCache: null } });
  const base = async (path: string, body: unknown) => (await srv.post(path, body)).json;
  const single = VALID[0][1]();
  const expected = await base(VALID[0][0], single);
  for (let i = 0; i < 200; i++) {
    const b = VALID[0][1]() as { params: Record<string, unknown> };
    Object.assign(b, { [`top_${i}`]: randomValue() });
    Object.assign(b.params, extras());
    Object.assign(b.params.metadata_options as Record<string, unknown>, { include_something_new: true, includeFutureThing: false });
    const r = await srv.post(VALID[0][0], b);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, expected);
  }
  const feast = VALID[3][1]();
  const expectedFeast = await base(VALID[3][0], feast);
  for (let i = 0; i < 100; i++) {
    const r = await srv.post(VALID[3][0], { ...VALID[3][1](), [`unused_${i}`]: randomValue(), full_feature_names: false });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, expectedFeast);
  }
});
