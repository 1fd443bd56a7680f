/**
 * The HTTP layer of `fsql serve` over real HTTP, run twice: on SQLite and on a redis-server started
 * here. Request parsing in both spellings, response shapes, every metadata option, errors with
 * their status and body, auth, metrics, body limit, push, Feast's API, and TTLs decided at the
 * request's time (the server's clock is injected, so time moves without sleeping).
 */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadProject } from '../src/project/load.js';
import type { Project } from '../src/project/types.js';
import { newApiKey } from '../src/serving/auth.js';
import { Timestamp } from '../src/values.js';
import { Redis } from 'ioredis';
import type { OnlineStore } from '../src/online/store.js';
import { copyExample } from './helpers/project.js';
import { startRedis, type RedisServer } from './helpers/redis.js';
import { EXAMPLE_LAYOUTS, startServer, type TestServer } from './helpers/serve.js';
import { freshStore, type StoreKind } from './helpers/stores.js';

const GET = '/api/v1/feature-service/get-features';
const BATCH = '/api/v1/feature-service/get-features-batch';
const META = '/api/v1/feature-service/metadata';
const ALL_OPTIONS = { include_names: true, include_effective_times: true, include_data_types: true, include_slo_info: true, include_serving_status: true };

/** Alphabetical by <view>.<feature>: the order every response must use. */
const ORDER = [
  'merchant_risk.chargeback_rate',
  'merchant_risk.risk_score',
  'user_merchant_pair.pair_spend_30d',
  'user_merchant_pair.pair_txn_count_30d',
  'user_transaction_stats.avg_amount_7d',
  'user_transaction_stats.large_txn_count_1d',
  'user_transaction_stats.max_amount_7d',
  'user_transaction_stats.spend_1d',
  'user_transaction_stats.spend_1h',
  'user_transaction_stats.spend_7d',
  'user_transaction_stats.txn_count_1d',
  'user_transaction_stats.txn_count_1h',
  'user_transaction_stats.txn_count_7d',
];

const hoursAgo = (h: number) => Timestamp.fromMillis(Date.now() - h * 3600_000);
const [USER, MERCHANT, PAIR] = EXAMPLE_LAYOUTS;

let project: Project;
let redis: RedisServer;
const T_USER = hoursAgo(2);
const T_MERCHANT = hoursAgo(5);
const T_PAIR = hoursAgo(30);

async function seed(s: OnlineStore): Promise<void> {
  for (const l of EXAMPLE_LAYOUTS) await s.putLayout(l);
  await s.write(USER, [
    {
      key: ['u_1001'],
      ts: T_USER,
      values: { txn_count_1h: 1n, spend_1h: 10.5, txn_count_1d: 3n, spend_1d: 99.25, txn_count_7d: 2n ** 62n, spend_7d: NaN, avg_amount_7d: Infinity, max_amount_7d: -Infinity, large_txn_count_1d: 0n },
    },
  ]);
  await s.write(MERCHANT, [{ key: ['m_7'], ts: T_MERCHANT, values: { txn_count_30d: 40n, volume_30d: 1234.5, chargeback_rate: 0.025, risk_score: 1.6666666666666667 } }]);
  await s.write(PAIR, [{ key: ['u_1001', 'm_7'], ts: T_PAIR, values: { pair_txn_count_30d: 4n, pair_spend_30d: 120 } }]);
}

before(async () => {
  project = loadProject({ projectDir: copyExample({ handWrittenWindows: true }) });
  redis = await startRedis();
});

after(async () => {
  await redis?.stop();
});

for (const kind of ['sqlite', 'redis'] as StoreKind[]) describe(`on ${kind}`, () => apiTests(kind));

function apiTests(kind: StoreKind): void {
  const fresh = () => freshStore(kind, redis.url);
  /** the server's clock: the wall clock's time when the file started, moved by tests */
  const clock = { ms: Date.now() };
  const serverClock = () => Timestamp.fromMillis(clock.ms);
  let store: OnlineStore;
  let srv: TestServer;
  const closing: OnlineStore[] = [];

  before(async () => {
    store = await fresh();
    closing.push(store);
    await seed(store);
    srv = await startServer(project, store, { clock: serverClock });
  });

  after(async () => {
    await srv.close();
    for (const s of closing) await s.close();
  });

  describe('get-features', () => {
    test('snake_case with every metadata option: values, order, types, times, statuses, sloInfo', async () => {
      const r = await srv.post(GET, {
        params: { workspace_name: 'fraud_features', feature_service_name: 'fraud_detection', join_key_map: { user_id: 'u_1001', merchant_id: 'm_7' }, request_context_map: { amount: 100 }, metadata_options: ALL_OPTIONS },
      });
      assert.equal(r.status, 200, r.text);
      assert.match(String(r.headers['content-type']), /application\/json/);
      assert.deepEqual(Object.keys(r.json), ['result', 'metadata']);
      assert.deepEqual(Object.keys(r.json.result), ['features']);
      assert.deepEqual(r.json.result.features, [0.025, 1.6666666666666667, 120, '4', 'Infinity', '0', '-Infinity', 99.25, 10.5, 'NaN', '3', '1', String(2n ** 62n)]);
      assert.deepEqual(r.json.metadata.features.map((f: { name: string }) => f.name), ORDER);
      const byName = Object.fromEntries(r.json.metadata.features.map((f: { name: string }) => [f.name, f]));
      assert.deepEqual(byName['user_transaction_stats.txn_count_7d'], { name: 'user_transaction_stats.txn_count_7d', dataType: { type: 'int64' }, effectiveTime: T_USER.toISOString(), status: 'PRESENT' });
      assert.deepEqual(byName['merchant_risk.risk_score'], { name: 'merchant_risk.risk_score', dataType: { type: 'float64' }, effectiveTime: T_MERCHANT.toISOString(), status: 'PRESENT' });
      assert.equal(byName['user_merchant_pair.pair_spend_30d'].effectiveTime, T_PAIR.toISOString());
      const slo = r.json.metadata.sloInfo;
      assert.equal(slo.sloEligible, true);
      for (const k of ['serverTimeSeconds', 'sloServerTimeSeconds', 'storeMaxLatency']) assert.ok(typeof slo[k] === 'number' && slo[k] >= 0 && slo[k] < 5, k);
    });

    test('camelCase, as the Tecton Python client sends it (nulls, requestOptions, allowPartialResults)', async () => {
      const r = await srv.post(GET, {
        params: {
          workspaceName: 'dev',
          featureServiceName: 'fraud_detection',
          featureServiceId: null,
          joinKeyMap: { user_id: 'u_1001', merchant_id: 'm_7' },
          requestContextMap: {},
          allowPartialResults: false,
          metadataOptions: { includeNames: true, includeDataTypes: true, includeEffectiveTimes: false, includeSloInfo: false, includeServingStatus: true, includeFeatureDescriptions: true, includeFeatureTags: true },
          requestOptions: { readFromCache: null, writeToCache: null },
        },
      });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.metadata.sloInfo, undefined);
      const risk = r.json.metadata.features.find((f: { name: string }) => f.name === 'merchant_risk.risk_score');
      assert.deepEqual(risk, {
        name: 'merchant_risk.risk_score',
        dataType: { type: 'float64' },
        description: 'Chargebacks per 100 transactions, shrunk toward 0 for small merchants',
        tags: { fraud: '', merchant: '', risk: '' },
        status: 'PRESENT',
      });
      assert.equal(r.json.result.features[12], String(2n ** 62n));
    });

    test('no metadata_options: result only', async () => {
      const r = await srv.post(GET, { params: { feature_service_name: 'fraud_detection', join_key_map: { user_id: 'u_1001', merchant_id: 'm_7' } } });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(Object.keys(r.json), ['result']);
      assert.equal(r.json.result.features.length, 13);
    });

    test('unknown entity and null join key: MISSING_DATA with null values, no effective time', async () => {
      const r = await srv.post(GET, { params: { feature_service_name: 'fraud_detection', join_key_map: { user_id: 'u_1001', merchant_id: 'm_404' }, metadata_options: ALL_OPTIONS } });
      assert.equal(r.status, 200, r.text);
      const meta = r.json.metadata.features as { name: string; status: string; effectiveTime?: string }[];
      meta.forEach((m, i) => {
        const user = m.name.startsWith('user_transaction_stats.');
        assert.equal(m.status, user ? 'PRESENT' : 'MISSING_DATA', m.name);
        assert.equal(m.effectiveTime === undefined, !user, m.name);
        if (!user) assert.equal(r.json.result.features[i], null);
      });
      const nul = await srv.post(GET, { params: { feature_service_name: 'fraud_detection', join_key_map: { user_id: null, merchant_id: 'm_7' }, metadata_options: { include_serving_status: true } } });
      assert.equal(nul.status, 200, nul.text);
      assert.deepEqual(nul.json.metadata.features.map((f: { status: string }) => f.status), ['PRESENT', 'PRESENT', ...new Array(11).fill('MISSING_DATA')]);
    });

    test('a string join key given as a number uses its text', async () => {
      await store.write(USER, [{ key: ['42'], ts: hoursAgo(1), values: { txn_count_1h: 7n } }]);
      const r = await srv.post(GET, { params: { feature_service_name: 'fraud_detection', join_key_map: { user_id: 42, merchant_id: 'm_7' }, metadata_options: { include_names: true } } });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.result.features[ORDER.indexOf('user_transaction_stats.txn_count_1h')], '7');
    });

    test('TTL at the request\'s time: PRESENT, then MISSING_DATA (Feast: OUTSIDE_MAX_AGE) once the clock passes ts + ttl', async () => {
      const ttl = MERCHANT.ttlSeconds!;
      await store.write(MERCHANT, [{ key: ['m_ttl'], ts: Timestamp.fromMillis(clock.ms - ttl * 1000 + 60_000), values: { txn_count_30d: 1n, volume_30d: 1, chargeback_rate: 0, risk_score: 0 } }]);
      const ask = () => srv.post(GET, { params: { feature_service_name: 'fraud_detection', join_key_map: { user_id: 'u_0', merchant_id: 'm_ttl' }, metadata_options: { include_serving_status: true } } });
      const feast = () => srv.post('/get-online-features', { features: ['merchant_risk:risk_score'], entities: { merchant_id: ['m_ttl', 'm_none'] } });
      const fresh = await ask();
      assert.equal(fresh.json.metadata.features[1].status, 'PRESENT');
      assert.equal(fresh.json.result.features[1], 0);
      assert.deepEqual((await feast()).json.results[1].statuses, ['PRESENT', 'NOT_FOUND']);
      const started = clock.ms;
      clock.ms += 59_000;
      assert.equal((await ask()).json.metadata.features[1].status, 'PRESENT', 'one second before ts + ttl');
      clock.ms += 2_000;
      try {
        const stale = await ask();
        assert.equal(stale.json.metadata.features[1].status, 'MISSING_DATA');
        assert.equal(stale.json.result.features[1], null);
        const f = await feast();
        assert.deepEqual(f.json.results[1], { values: [null, null], statuses: ['OUTSIDE_MAX_AGE', 'NOT_FOUND'], event_timestamps: ['1970-01-01T00:00:00Z', '1970-01-01T00:00:00Z'] });
      } finally {
        clock.ms = started;
      }
    });
  });

  describe('errors', () => {
    const body = (params: unknown) => ({ params });
    const cases: [string, string, unknown, number, number, RegExp][] = [
      ['bad JSON', GET, '{"params": ', 400, 3, /not valid JSON/],
      ['empty body', GET, '', 400, 3, /empty/],
      ['body is an array', GET, [1, 2], 400, 3, /JSON object/],
      ['no params', GET, { feature_service_name: 'fraud_detection' }, 400, 3, /params/],
      ['params is a string', GET, body('x'), 400, 3, /'params' must be a JSON object/],
      ['no service name', GET, body({ join_key_map: {} }), 400, 3, /feature_service_name' is required/],
      ['service name is a number', GET, body({ feature_service_name: 7 }), 400, 3, /must be a string/],
      ['unknown service', GET, body({ feature_service_name: 'nope', join_key_map: {} }), 404, 5, /feature service 'nope' not found/],
      ['unknown workspace', GET, body({ workspace_name: 'prod_x', feature_service_name: 'fraud_detection', join_key_map: {} }), 404, 5, /workspace 'prod_x' not found/],
      ['missing join key', GET, body({ feature_service_name: 'fraud_detection', join_key_map: { user_id: 'u_1' } }), 400, 3, /join key 'merchant_id' is missing/],
      ['unknown join key', GET, body({ feature_service_name: 'fraud_detection', join_key_map: { user_id: 'u', merchant_id: 'm', card: 'x' } }), 400, 3, /unknown join key 'card'/],
      ['__proto__ join key', GET, '{"params":{"feature_service_name":"fraud_detection","join_key_map":{"user_id":"u","merchant_id":"m","__proto__":{"x":1}}}}', 400, 3, /unknown join key '__proto__'/],
      ['join key of wrong type', GET, body({ feature_service_name: 'fraud_detection', join_key_map: { user_id: ['u'], merchant_id: 'm' } }), 400, 3, /join key 'user_id' is a string key; send a JSON string or number, not an array/],
      ['boolean for a string join key', GET, body({ feature_service_name: 'fraud_detection', join_key_map: { user_id: true, merchant_id: 'm' } }), 400, 3, /join key 'user_id' is a string key; send a JSON string or number, not a boolean/],
      ['boolean join key in a batch', BATCH, body({ feature_service_name: 'fraud_detection', request_data: [{ join_key_map: { user_id: 'u', merchant_id: 'm' } }, { join_key_map: { user_id: 'u', merchant_id: false } }] }), 400, 3, /'merchant_id' is a string key/],
      ['join_key_map is a list', GET, body({ feature_service_name: 'fraud_detection', join_key_map: ['u'] }), 400, 3, /'join_key_map' must be an object of join key names to values, not an array/],
      ['no join_key_map', GET, body({ feature_service_name: 'fraud_detection' }), 400, 3, /'join_key_map' is required/],
      ['metadata option not a boolean', GET, body({ feature_service_name: 'fraud_detection', join_key_map: { user_id: 'u', merchant_id: 'm' }, metadata_options: { include_names: 'yes' } }), 400, 3, /true or false/],
      ['request_context_map not an object', GET, body({ feature_service_name: 'fraud_detection', join_key_map: { user_id: 'u', merchant_id: 'm' }, request_context_map: 5 }), 400, 3, /request_context_map/],
      ['allowPartialResults not a boolean', GET, body({ featureServiceName: 'fraud_detection', joinKeyMap: { user_id: 'u', merchant_id: 'm' }, allowPartialResults: 'no' }), 400, 3, /allow_partial_results/],
      ['batch without request_data', BATCH, body({ feature_service_name: 'fraud_detection' }), 400, 3, /request_data/],
      ['batch with empty request_data', BATCH, body({ feature_service_name: 'fraud_detection', request_data: [] }), 400, 3, /empty/],
      ['batch entry not an object', BATCH, body({ feature_service_name: 'fraud_detection', request_data: [3] }), 400, 3, /request_data\[0\]/],
      ['metadata for an unknown service', META, body({ featureServiceName: 'nope' }), 404, 5, /not found/],
    ];
    for (const [name, path, payload, status, code, message] of cases) {
      test(`${name}: ${status}/${code}`, async () => {
        const r = await srv.post(path, payload);
        assert.equal(r.status, status, r.text);
        assert.deepEqual(Object.keys(r.json), ['error', 'message', 'code']);
        assert.equal(r.json.code, code);
        assert.equal(r.json.error, r.json.message);
        assert.match(r.json.message, message);
      });
    }

    test('unknown path 404/5, wrong method 405', async () => {
      const nf = await srv.get('/api/v1/nothing');
      assert.equal(nf.status, 404);
      assert.equal(nf.json.code, 5);
      const m = await srv.get(GET);
      assert.equal(m.status, 405);
      assert.equal(m.headers.allow, 'POST');
      assert.equal(m.json.code, 12);
    });

    test('a body over 1 MiB is a 413 and the server goes on', async () => {
      const big = JSON.stringify({ params: { feature_service_name: 'fraud_detection', pad: 'x'.repeat(1024 * 1024) } });
      const r = await srv.raw('POST', GET, big, { 'content-type': 'application/json' });
      assert.equal(r.status, 413);
      assert.equal(r.json.code, 8);
      assert.match(r.json.message, /larger than 1048576 bytes/);
      const chunked = await new Promise<number>((resolve, reject) => {
        import('node:http').then(({ request }) => {
          const req = request(`${srv.url}${GET}`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on('error', reject);
          for (let i = 0; i < 40; i++) req.write('x'.repeat(64 * 1024));
          req.end();
        });
      });
      assert.equal(chunked, 413);
      const ok = await srv.post(GET, { params: { feature_service_name: 'fraud_detection', join_key_map: { user_id: 'u_1001', merchant_id: 'm_7' } } });
      assert.equal(ok.status, 200);
    });

  });

  describe('batch, metadata, catalogue', () => {
    test('get-features-batch: results in request order, shared metadata with per-row statuses and times', async () => {
      const r = await srv.post(BATCH, {
        params: {
          feature_service_name: 'fraud_detection',
          request_data: [{ join_key_map: { user_id: 'u_1001', merchant_id: 'm_7' } }, { joinKeyMap: { user_id: 'u_none', merchant_id: 'm_none' } }, { join_key_map: { user_id: 'u_1001', merchant_id: 'm_7' }, request_context_map: { amount: 3 } }],
          metadata_options: ALL_OPTIONS,
        },
      });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.result.length, 3);
      for (const row of r.json.result) assert.deepEqual(Object.keys(row), ['features']);
      assert.deepEqual(r.json.result[0], r.json.result[2]);
      assert.deepEqual(r.json.result[1].features, new Array(13).fill(null));
      assert.equal(r.json.result[0].features[12], String(2n ** 62n));
      const m = r.json.metadata.features[12];
      assert.equal(m.name, 'user_transaction_stats.txn_count_7d');
      assert.deepEqual(m.status, ['PRESENT', 'MISSING_DATA', 'PRESENT']);
      assert.deepEqual(m.effectiveTime, [T_USER.toISOString(), null, T_USER.toISOString()]);
      assert.equal(r.json.metadata.sloInfo.length, 3);
      assert.equal(r.json.metadata.batchSloInfo.sloEligible, true);
    });

    test('a batch is one store round trip', { skip: kind !== 'redis' && 'SQLite is in process: no round trips' }, async () => {
      const client = new Redis(redis.port, '127.0.0.1');
      try {
        const mgets = async () => Number(/cmdstat_mget:calls=(\d+)/.exec(await client.info('commandstats'))?.[1] ?? 0);
        const before = await mgets();
        const r = await srv.post(BATCH, { params: { feature_service_name: 'fraud_detection', request_data: Array.from({ length: 50 }, (_, i) => ({ join_key_map: { user_id: `u_${i}`, merchant_id: 'm_7' } })) } });
        assert.equal(r.status, 200);
        assert.equal((await mgets()) - before, 1);
      } finally {
        client.disconnect();
      }
    });

    test('metadata: join keys, features in get-features order with types, descriptions and tags', async () => {
      const r = await srv.post(META, { params: { featureServiceName: 'fraud_detection', workspaceName: 'fraud_features' } });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(Object.keys(r.json), ['inputJoinKeys', 'inputRequestContextKeys', 'featureValues']);
      assert.deepEqual(r.json.inputJoinKeys, [{ name: 'user_id', dataType: { type: 'string' } }, { name: 'merchant_id', dataType: { type: 'string' } }]);
      assert.deepEqual(r.json.inputRequestContextKeys, []);
      assert.deepEqual(r.json.featureValues.map((f: { name: string }) => f.name), ORDER);
      assert.deepEqual(r.json.featureValues[12], {
        name: 'user_transaction_stats.txn_count_7d',
        dataType: { type: 'int64' },
        description: 'Transactions in the 7 days up to and including this one',
        tags: { fraud: '', user: '' },
      });
    });

    test('GET /api/v1/feature-services lists services with features and types', async () => {
      const r = await srv.get('/api/v1/feature-services');
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json.featureServices.map((x: { name: string }) => x.name), ['fraud_detection', 'fraud_scoring']);
      assert.deepEqual(r.json.featureServices[1].inputRequestContextKeys.map((k: { name: string }) => k.name), ['amount']);
      const s = r.json.featureServices[0];
      assert.equal(s.name, 'fraud_detection');
      assert.equal(s.description, 'Features for the card-fraud model');
      assert.deepEqual(s.featureValues.map((f: { name: string }) => f.name), ORDER);
    });
  });

  describe('Feast API', () => {
    test('feature_service: column-major, join keys first, statuses, int64 exact', async () => {
      const r = await srv.post('/get-online-features', { feature_service: 'fraud_detection', entities: { user_id: ['u_1001', 'u_none'], merchant_id: ['m_7', 'm_7'] } });
      assert.equal(r.status, 200, r.text);
      const names = ['user_id', 'merchant_id', ...ORDER.map((n) => n.split('.')[1])];
      assert.deepEqual(r.json.metadata.feature_names, names);
      assert.equal(r.json.results.length, names.length);
      assert.deepEqual(r.json.results[0], { values: ['u_1001', 'u_none'], statuses: ['PRESENT', 'PRESENT'], event_timestamps: ['1970-01-01T00:00:00Z', '1970-01-01T00:00:00Z'] });
      const count = r.json.results[names.indexOf('txn_count_7d')];
      assert.deepEqual(count.statuses, ['PRESENT', 'NOT_FOUND']);
      assert.deepEqual(count.event_timestamps, [T_USER.toISOString(), '1970-01-01T00:00:00Z']);
      assert.match(r.text, new RegExp(`"values":\\[${2n ** 62n},null\\]`), 'int64 written as an exact JSON integer');
      assert.deepEqual(r.json.results[names.indexOf('risk_score')].values, [1.6666666666666667, 1.6666666666666667]);
    });

    test('features list in the given order, full_feature_names', async () => {
      const r = await srv.post('/get-online-features', { features: ['merchant_risk:risk_score', 'user_transaction_stats:spend_1d'], entities: { merchant_id: ['m_7'], user_id: ['u_1001'] }, full_feature_names: true });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json.metadata.feature_names, ['merchant_id', 'user_id', 'merchant_risk__risk_score', 'user_transaction_stats__spend_1d']);
      assert.deepEqual(r.json.results[3].values, [99.25]);
    });

    test('Feast errors', async () => {
      const bad: [unknown, number, RegExp][] = [
        [{ entities: { user_id: ['u'] } }, 400, /feature_service/],
        [{ features: ['merchant_risk'], entities: { merchant_id: ['m'] } }, 400, /view:feature/],
        [{ features: ['nope:x'], entities: {} }, 404, /not found/],
        [{ features: ['merchant_risk:nope'], entities: {} }, 404, /no feature 'nope'/],
        [{ feature_service: 'fraud_detection', entities: { user_id: ['u'], merchant_id: ['m', 'n'] } }, 400, /differ in length/],
        [{ feature_service: 'fraud_detection', entities: { user_id: 'u', merchant_id: ['m'] } }, 400, /must be a list/],
        [{ feature_service: 'fraud_detection', entities: { user_id: [], merchant_id: [] } }, 400, /no rows/],
        [{ feature_service: 'fraud_detection', entities: { user_id: ['u'] } }, 400, /'merchant_id' is missing/],
      ];
      for (const [b, status, msg] of bad) {
        const r = await srv.post('/get-online-features', b);
        assert.equal(r.status, status, `${JSON.stringify(b)}: ${r.text}`);
        assert.match(r.json.message, msg);
      }
    });
  });

  describe('push', () => {
    test('writes rows, keeps the newer of a push and an older row, validates types', async () => {
      const newer = hoursAgo(0.5).toISOString();
      const older = hoursAgo(1).toISOString();
      const push = (ts: string, risk: number) =>
        srv.post('/push', { feature_view: 'merchant_risk', df: { merchant_id: ['m_push'], feature_ts: [ts], txn_count_30d: ['12'], volume_30d: [10], chargeback_rate: [0.5], risk_score: [risk] }, to: 'online' });
      const a = await push(newer, 9);
      assert.equal(a.status, 200, a.text);
      assert.deepEqual(a.json, { feature_view: 'merchant_risk', rows: 1, written: 1, stale: 0 });
      const b = await push(older, 1);
      assert.deepEqual(b.json, { feature_view: 'merchant_risk', rows: 1, written: 0, stale: 1 });
      const r = await srv.post(GET, { params: { feature_service_name: 'fraud_detection', join_key_map: { user_id: 'u', merchant_id: 'm_push' }, metadata_options: { include_effective_times: true } } });
      assert.equal(r.json.result.features[1], 9);
      assert.equal(r.json.metadata.features[1].effectiveTime, newer);

      const errors: [unknown, number, RegExp][] = [
        [{ df: {} }, 400, /feature_view/],
        [{ feature_view: 'nope', df: {} }, 404, /not in the online store/],
        [{ feature_view: 'merchant_risk', df: { merchant_id: ['m'] }, to: 'offline' }, 400, /keeps no push log/],
        [{ feature_view: 'merchant_risk', df: { merchant_id: ['m'] } }, 400, /lacks column/],
        [{ feature_view: 'merchant_risk', df: { merchant_id: ['m', 'n'], feature_ts: [newer, newer], txn_count_30d: [1, 1.5], volume_30d: [1, 1], chargeback_rate: [0, 0], risk_score: [0, 0] } }, 400, /^row 1: 'txn_count_30d' .*int64/],
        [{ feature_view: 'merchant_risk', df: { merchant_id: ['m'], feature_ts: ['yesterday'], txn_count_30d: [1], volume_30d: [1], chargeback_rate: [0], risk_score: [0] } }, 400, /^row 0: 'feature_ts' .*ISO 8601/],
        [{ feature_view: 'merchant_risk', df: { merchant_id: ['m'], feature_ts: ['2999-01-01T00:00:00Z'], txn_count_30d: [1], volume_30d: [1], chargeback_rate: [0], risk_score: [0] } }, 400, /^row 0: 'feature_ts' 2999-01-01T00:00:00Z is in the future/],
        [{ feature_view: 'merchant_risk', df: { merchant_id: ['m', null], feature_ts: [newer, newer], txn_count_30d: [1, 1], volume_30d: [1, 1], chargeback_rate: [0, 0], risk_score: [0, 0] } }, 400, /^row 1: join key 'merchant_id' is null/],
        [{ feature_view: 'merchant_risk', df: { merchant_id: ['m'], feature_ts: [newer], txn_count_30d: [1], volume_30d: [1], chargeback_rate: [0], risk_score: [0], extra: [1] } }, 400, /column 'extra'/],
      ];
      for (const [b, status, msg] of errors) {
        const e = await srv.post('/push', b);
        assert.equal(e.status, status, `${JSON.stringify(b)}: ${e.text}`);
        assert.match(e.json.message, msg);
      }
    });
  });

  describe('layout changes', () => {
    test('a view synced only after start-up: 503/14 naming it until then, served after a reload', async () => {
      const s = await fresh();
      closing.push(s);
      await s.putLayout(USER);
      await s.putLayout(PAIR);
      const server = await startServer(project, s);
      try {
        assert.match(server.logs.join(''), /view 'merchant_risk' has never been synced/);
        const ask = () => server.post(GET, { params: { feature_service_name: 'fraud_detection', join_key_map: { user_id: 'u_1001', merchant_id: 'm_7' } } });
        await s.putLayout(MERCHANT);
        await s.write(MERCHANT, [{ key: ['m_7'], ts: hoursAgo(1), values: { risk_score: 2, chargeback_rate: 0.25 } }]);
        const r = await ask();
        assert.equal(r.status, 200, r.text);
        assert.deepEqual(r.json.result.features.slice(0, 2), [0.25, 2]);
        await s.dropView('merchant_risk');
        const server2 = await startServer(project, s);
        try {
          const gone = await server2.post(GET, { params: { feature_service_name: 'fraud_detection', join_key_map: { user_id: 'u_1001', merchant_id: 'm_7' } } });
          assert.equal(gone.status, 503);
          assert.equal(gone.json.code, 14);
          assert.match(gone.json.message, /view 'merchant_risk' has never been synced to this online store; run: fsql sync --select merchant_risk/);
        } finally {
          await server2.close();
        }
      } finally {
        await server.close();
      }
    });

    test('a view re-synced with other features after start-up: the catalogue is reloaded once and the request answered', async () => {
      const s = await fresh();
      closing.push(s);
      await seed(s);
      const server = await startServer(project, s);
      try {
        const slim = { ...MERCHANT, features: MERCHANT.features.filter((f) => f.name === 'risk_score' || f.name === 'chargeback_rate') };
        await s.dropView('merchant_risk');
        await s.putLayout(slim);
        await s.write(slim, [{ key: ['m_7'], ts: hoursAgo(1), values: { risk_score: 4.5, chargeback_rate: 0.5 } }]);
        const r = await server.post(GET, { params: { feature_service_name: 'fraud_detection', join_key_map: { user_id: 'u_1001', merchant_id: 'm_7' } } });
        assert.equal(r.status, 200, r.text);
        assert.deepEqual(r.json.result.features.slice(0, 2), [0.5, 4.5]);
        assert.match(server.logs.join(''), /reloaded the service catalogue/);
      } finally {
        await server.close();
      }
    });
  });

  describe('metrics', () => {
    test('per-service and per-endpoint counts and latency histograms, store latency, freshness per view', async () => {
      await store.setWatermark('merchant_risk', hoursAgo(2));
      await srv.post(GET, { params: { feature_service_name: 'fraud_detection', join_key_map: { user_id: 'u_1001', merchant_id: 'm_7' } } });
      await srv.post(GET, { params: { feature_service_name: 'nope', join_key_map: {} } });
      const r = await srv.get('/metrics');
      assert.equal(r.status, 200);
      assert.match(String(r.headers['content-type']), /text\/plain/);
      const m = r.text;
      const families = new Map(parsePrometheusTextFormat(m).map((f) => [f.name, f]));
      const requests = families.get('fsql_http_requests_total')!;
      assert.equal(requests.type, 'COUNTER');
      const requestCount = (labels: Record<string, string>) => Number(requests.metrics.find((x) => JSON.stringify(x.labels) === JSON.stringify(labels))?.value ?? 0);
      assert.ok(requestCount({ service: 'fraud_detection', endpoint: GET, status: '200' }) >= 1, m);
      // a service the catalogue lacks is no label value (no series per name a client makes up)
      assert.ok(requestCount({ service: '', endpoint: GET, status: '404' }) >= 1, m);
      assert.ok(!requests.metrics.some((x) => x.labels?.service === 'nope'));
      assert.equal(families.get('fsql_http_request_duration_seconds')!.type, 'HISTOGRAM');
      // parse-prometheus-text-format folds a histogram's labelled series into one, dropping their
      // labels: without the TYPE line it reads _bucket, _sum and _count as plain series, labels kept
      // (each series then comes as families of its own, by name)
      const plain = parsePrometheusTextFormat(m.replace('# TYPE fsql_http_request_duration_seconds histogram\n', ''));
      const ofService = (name: string) => plain.filter((f) => f.name === `fsql_http_request_duration_seconds_${name}`).flatMap((f) => f.metrics).filter((x) => x.labels?.service === 'fraud_detection' && x.labels.endpoint === GET && x.labels.status === '200');
      const [count] = ofService('count');
      assert.ok(Number(count.value) >= 1, m);
      const buckets = new Map(ofService('bucket').map((x) => [x.labels!.le, Number(x.value)]));
      assert.equal(buckets.get('+Inf'), Number(count.value));
      assert.ok(buckets.has('0.005'));
      assert.equal(ofService('sum').length, 1);
      assert.match(m, /^fsql_online_store_read_duration_seconds_count\{endpoint="\/api\/v1\/feature-service\/get-features"\} \d+$/m);
      const fresh = /^fsql_feature_freshness_seconds\{feature_view="merchant_risk"\} ([\d.]+)$/m.exec(m);
      assert.ok(fresh, m);
      assert.ok(Math.abs(Number(fresh[1]) - 7200) < 60, fresh[1]);
      assert.match(m, /^fsql_feature_view_ttl_seconds\{feature_view="user_transaction_stats"\} 604800$/m);
    });

    test('completeness per service and view: values served present and MISSING_DATA by reason, read with a Prometheus parser', async () => {
      await srv.post(GET, { params: { feature_service_name: 'fraud_detection', join_key_map: { user_id: 'u_1001', merchant_id: 'm_7' } } });
      await srv.post(GET, { params: { feature_service_name: 'fraud_detection', join_key_map: { user_id: 'nobody', merchant_id: 'm_7' } } });
      const family = parsePrometheusTextFormat((await srv.get('/metrics')).text).find((f) => f.name === 'fsql_served_views_total');
      assert.ok(family);
      assert.equal(family.type, 'COUNTER');
      const count = (view: string, status: string) =>
        Number(family.metrics.find((x) => x.labels?.service === 'fraud_detection' && x.labels?.feature_view === view && x.labels?.status === status)?.value ?? 0);
      assert.ok(count('user_transaction_stats', 'not_found') >= 1, 'the unknown user has no row');
      assert.ok(count('merchant_risk', 'present') + count('merchant_risk', 'expired') >= 2, 'merchant m_7 was read twice');
    });
  });

  describe('auth', () => {
    let secured: TestServer;
    let authStore: OnlineStore;
    const keys: Record<string, string> = {};
    before(async () => {
      authStore = await fresh();
      closing.push(authStore);
      await seed(authStore);
      for (const [name, services] of [['all', []], ['fraud', ['fraud_detection']], ['other', ['other_service']], ['revoked', []]] as [string, string[]][]) {
        const k = newApiKey(`${name} key`, services);
        keys[name] = k.key;
        await authStore.putApiKey(name === 'revoked' ? { ...k.record, revoked: true } : k.record);
      }
      secured = await startServer(project, authStore, { auth: true, authCacheMs: 0, clock: serverClock });
    });
    after(() => secured.close());

    const ask = (headers: Record<string, string>) => secured.post(GET, { params: { feature_service_name: 'fraud_detection', join_key_map: { user_id: 'u_1001', merchant_id: 'm_7' } } }, headers);

    test('Tecton-key and Bearer both work; keys are stored as sha256 hashes only', async () => {
      assert.equal((await ask({ authorization: `Tecton-key ${keys.all}` })).status, 200);
      assert.equal((await ask({ authorization: `Bearer ${keys.fraud}` })).status, 200);
      for (const rec of await authStore.listApiKeys()) {
        assert.match(rec.hash, /^[0-9a-f]{64}$/);
        assert.ok(!Object.values(keys).some((k) => JSON.stringify(rec).includes(k)));
      }
    });

    test('401/16 without a key, with a wrong key, with a revoked key; 403/7 for a key of other services', async () => {
      for (const headers of [{} as Record<string, string>, { authorization: 'Tecton-key nope' }, { authorization: 'Basic abc' }, { authorization: `Bearer ${keys.revoked}` }]) {
        const r = await ask(headers);
        assert.equal(r.status, 401, JSON.stringify(headers));
        assert.equal(r.json.code, 16);
        assert.ok(!r.text.includes(keys.revoked));
      }
      const r = await ask({ authorization: `Tecton-key ${keys.other}` });
      assert.equal(r.status, 403);
      assert.equal(r.json.code, 7);
      const feast = await secured.post('/get-online-features', { features: ['merchant_risk:risk_score'], entities: { merchant_id: ['m_7'] } }, { authorization: `Bearer ${keys.other}` });
      assert.equal(feast.status, 403);
      const push = await secured.post('/push', { feature_view: 'merchant_risk', df: {} }, { authorization: `Bearer ${keys.fraud}` });
      assert.equal(push.status, 403);
      const list = await secured.get('/api/v1/feature-services', { authorization: `Bearer ${keys.other}` });
      assert.deepEqual(list.json.featureServices, []);
    });

    test('a revoked key stops working once its cached lookup is older than the cache time (injected clock)', async () => {
      const k = newApiKey('soon revoked', []);
      await authStore.putApiKey(k.record);
      let now = Timestamp.fromMillis(Date.UTC(2026, 0, 1));
      const cached = await startServer(project, authStore, { auth: true, authCacheMs: 5000, clock: () => now });
      try {
        const status = async () => (await cached.post(GET, { params: { feature_service_name: 'fraud_detection', join_key_map: { user_id: 'u_1001', merchant_id: 'm_7' } } }, { authorization: `Bearer ${k.key}` })).status;
        assert.equal(await status(), 200);
        await authStore.putApiKey({ ...k.record, revoked: true });
        now = Timestamp.fromMillis(now.millis + 4999);
        assert.equal(await status(), 200, 'within the cache time the lookup is not repeated');
        now = Timestamp.fromMillis(now.millis + 2);
        assert.equal(await status(), 401, 'after it, the revocation holds');
      } finally {
        await cached.close();
      }
    });

    test('health and metrics need no key', async () => {
      assert.equal((await secured.get('/health')).status, 200);
      assert.equal((await secured.get('/metrics')).status, 200);
    });
  });
}
