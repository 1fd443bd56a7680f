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
import type { OnlineStore } from '../src/online/store.js';
import { copyExample } from './helpers/project.js';
import { checkAnswer, fuzzCases, random, randomValue, seedFuzz, sendAll, VALID } from './helpers/fuzz.js';
import { EXAMPLE_LAYOUTS, startServer, type TestServer } from './helpers/serve.js';
import { freshStore } from './helpers/stores.js';

let srv: TestServer;
let store: OnlineStore;

before(async () => {
  seedFuzz(20240531);
  const project = loadProject({ projectDir: copyExample({ handWrittenWindows: true }) });
  store = await freshStore('sqlite');
  for (const l of EXAMPLE_LAYOUTS) await store.putLayout(l);
  const ts = Timestamp.fromMillis(Date.now() - 3600_000);
  await store.write(EXAMPLE_LAYOUTS[0], [{ key: ['u_1001'], ts, values: { txn_count_7d: 5n, spend_7d: 10 } }]);
  await store.write(EXAMPLE_LAYOUTS[1], [{ key: ['m_7'], ts, values: { risk_score: 1, chargeback_rate: 0.1 } }]);
  srv = await startServer(project, store);
});

after(async () => {
  await srv.close();
  await store.close();
});

test('thousands of malformed bodies: never a 5xx, always a JSON error, the server stays up', async () => {
  const cases = fuzzCases({ mutations: 300, cuts: 60, randomJson: 40, randomBytes: 30 });
  assert.ok(cases.length > 2500, `${cases.length} cases`);
  const wrong = await sendAll((c) => srv.raw('POST', c.path, c.body, { 'content-type': 'application/json' }), cases);
  assert.deepEqual(wrong, [], 'malformed bodies answered 200');
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
  const extras = (): Record<string, unknown> => ({ [`x_${Math.floor(random() * 1e6)}`]: randomValue(), featureServiceId: null, allowPartialResults: random() < 0.5, requestOptions: { readFromCache: true, writeToCache: null } });
  const base = async (path: string, body: unknown) => (await srv.post(path, body)).json;
  const expected = await base(VALID[0][0], VALID[0][1]());
  for (let i = 0; i < 200; i++) {
    const b = VALID[0][1]() as { params: Record<string, unknown> };
    Object.assign(b, { [`top_${i}`]: randomValue() });
    Object.assign(b.params, extras());
    Object.assign(b.params.metadata_options as Record<string, unknown>, { include_something_new: true, includeFutureThing: false });
    const r = await srv.post(VALID[0][0], b);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, expected);
  }
  const expectedFeast = await base(VALID[3][0], VALID[3][1]());
  for (let i = 0; i < 100; i++) {
    const r = await srv.post(VALID[3][0], { ...VALID[3][1](), [`unused_${i}`]: randomValue(), full_feature_names: false });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, expectedFeast);
  }
});
