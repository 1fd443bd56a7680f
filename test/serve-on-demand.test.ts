/**
 * On-demand features served (SPEC section 10): Tecton's request_context_map (single and batch),
 * the metadata endpoint's inputRequestContextKeys, 400/3 for a missing or mistyped field (and the
 * server keeps serving), and `fsql get --request` giving the same vector; on the example synced
 * to SQLite, over real HTTP.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openOnlineStore } from '../src/online/open.js';
import type { OnlineStore } from '../src/online/store.js';
import { loadProject } from '../src/project/load.js';
import { fsql } from './helpers/project.js';
import { addOnDemand } from './helpers/on-demand-project.js';
import { newestEntity, recentEntities, recentExample, startServer, type TestServer } from './helpers/serve.js';

const GET = '/api/v1/feature-service/get-features';
const BATCH = '/api/v1/feature-service/get-features-batch';
let dir: string;
let store: OnlineStore;
let srv: TestServer;

before(async () => {
  dir = addOnDemand(recentExample());
  for (const args of [['run'], ['sync']]) {
    const r = fsql(['--project-dir', dir, ...args], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
  }
  const project = loadProject({ projectDir: dir });
  store = await openOnlineStore(project);
  srv = await startServer(project, store);
});

after(async () => {
  await srv?.close();
  await store?.close();
});

/** The on-demand values the SPEC's rules give for the stored values in the same answer. */
function expectedFor(byName: Record<string, unknown>, amount: number, category: string, card: boolean): unknown[] {
  const avg = byName['user_transaction_stats.avg_amount_7d'] as number;
  const max = byName['user_transaction_stats.max_amount_7d'] as number;
  return [amount / avg, `${category.toUpperCase()}:${card}`, amount > 3 * (max ?? 0), ['gambling', 'crypto'].includes(category) ? '1' : '0'];
}

const ON_DEMAND = ['txn_vs_history.amount_vs_avg_7d', 'txn_vs_history.category_card', 'txn_vs_history.exceeds_3x_max_7d', 'txn_vs_history.risky_category'];

test('get-features evaluates the on-demand view from the request and the stored features of the same read', async () => {
  const e = newestEntity(dir);
  const r = await srv.post(GET, { params: { feature_service_name: 'fraud_detection', join_key_map: e, request_context_map: { amount: 250.5, merchant_category: 'crypto', card_present: true }, metadata_options: { include_names: true, include_data_types: true, include_serving_status: true, include_effective_times: true } } });
  assert.equal(r.status, 200, r.text);
  const names = r.json.metadata.features.map((f: { name: string }) => f.name);
  const byName = Object.fromEntries(names.map((n: string, i: number) => [n, r.json.result.features[i]]));
  assert.deepEqual(ON_DEMAND.map((n) => byName[n]), expectedFor(byName, 250.5, 'crypto', true));
  assert.deepEqual([...names].sort(), names, 'alphabetical, on-demand features among the others');
  const meta = r.json.metadata.features.find((f: { name: string }) => f.name === 'txn_vs_history.risky_category');
  assert.deepEqual(meta, { name: 'txn_vs_history.risky_category', dataType: { type: 'int64' }, status: 'PRESENT' });
  assert.deepEqual(r.json.metadata.features.find((f: { name: string }) => f.name === 'txn_vs_history.exceeds_3x_max_7d').dataType, { type: 'boolean' });
});

test('get-features-batch takes a request_context_map per entry', async () => {
  const [a, b] = recentEntities(dir, 2);
  const r = await srv.post(BATCH, { params: { featureServiceName: 'fraud_detection', requestData: [{ joinKeyMap: a, requestContextMap: { amount: 1, merchant_category: 'food', card_present: false } }, { joinKeyMap: b, requestContextMap: { amount: 1e6, merchant_category: 'gambling', card_present: null } }], metadataOptions: { includeNames: true } } });
  assert.equal(r.status, 200, r.text);
  const names = r.json.metadata.features.map((f: { name: string }) => f.name);
  const rows = r.json.result.map((x: { features: unknown[] }) => Object.fromEntries(names.map((n: string, i: number) => [n, x.features[i]])));
  assert.deepEqual(ON_DEMAND.map((n) => rows[0][n]), expectedFor(rows[0], 1, 'food', false));
  assert.deepEqual(ON_DEMAND.map((n) => rows[1][n]), [...expectedFor(rows[1], 1e6, 'gambling', true).slice(0, 1), null, ...expectedFor(rows[1], 1e6, 'gambling', true).slice(2)]);
});

test('a missing or mistyped request field is a 400 with gRPC code 3 naming it, and the server keeps serving', async () => {
  const e = newestEntity(dir);
  const ask = (ctx: unknown) => srv.post(GET, { params: { feature_service_name: 'fraud_detection', join_key_map: e, ...(ctx === undefined ? {} : { request_context_map: ctx }) } });
  const missing = await ask({ amount: 3, card_present: true });
  assert.equal(missing.status, 400);
  assert.equal(missing.json.code, 3);
  assert.match(missing.json.message, /request field 'merchant_category' is missing from 'request_context_map'; feature service 'fraud_detection' needs amount \(float64\), merchant_category \(string\), card_present \(boolean\)/);
  const mistyped = await ask({ amount: '3', merchant_category: 'x', card_present: true });
  assert.equal(mistyped.status, 400);
  assert.match(mistyped.json.message, /request field 'amount' is float64; send a JSON number, not a string/);
  const wrongBool = await ask({ amount: 3, merchant_category: 'x', card_present: 'yes' });
  assert.match(wrongBool.json.message, /request field 'card_present' is boolean/);
  const none = await ask(undefined);
  assert.equal(none.status, 400);
  assert.match(none.json.message, /^params: 'request_context_map' is missing; feature service 'fraud_detection' needs request fields amount \(float64\)/);
  const ok = await ask({ amount: 3, merchant_category: 'x', card_present: true });
  assert.equal(ok.status, 200, ok.text);
});

test('the metadata endpoint lists inputRequestContextKeys with their types', async () => {
  const r = await srv.post('/api/v1/feature-service/metadata', { params: { featureServiceName: 'fraud_detection' } });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.inputRequestContextKeys, [{ name: 'amount', dataType: { type: 'float64' } }, { name: 'merchant_category', dataType: { type: 'string' } }, { name: 'card_present', dataType: { type: 'boolean' } }]);
  assert.ok(r.json.featureValues.some((f: { name: string; description?: string }) => f.name === 'txn_vs_history.amount_vs_avg_7d' && f.description === 'The scored amount against the card holder history'));
});

test('fsql get --request gives the same vector as get-features', async () => {
  const e = newestEntity(dir);
  const r = await srv.post(GET, { params: { feature_service_name: 'fraud_detection', join_key_map: e, request_context_map: { amount: 42.25, merchant_category: 'café ☕', card_present: false } } });
  const get = fsql(['--project-dir', dir, 'get', '--service', 'fraud_detection', '--key', `user_id=${e.user_id}`, '--key', `merchant_id=${e.merchant_id}`, '--request', 'amount=42.25', '--request', 'merchant_category=café ☕', '--request', 'card_present=false', '--json'], { cwd: dir });
  assert.equal(get.code, 0, get.stderr);
  assert.deepEqual(JSON.parse(get.stdout).features.map((f: { value: unknown }) => f.value), r.json.result.features);
  const missing = fsql(['--project-dir', dir, 'get', '--service', 'fraud_detection', '--key', `user_id=${e.user_id}`, '--key', `merchant_id=${e.merchant_id}`], { cwd: dir });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /request field 'amount' is missing/);
});

test('fsql train computes the same on-demand values in the warehouse as the server for the same events', async () => {
  const entities = recentEntities(dir, 6);
  const now = new Date().toISOString().replace('T', ' ').replace('Z', '');
  const requests = [
    { amount: 250.5, merchant_category: 'crypto', card_present: true },
    { amount: 0, merchant_category: 'food', card_present: false },
    { amount: -12.75, merchant_category: 'gambling', card_present: true },
    { amount: 1e9, merchant_category: 'électronique', card_present: false },
    { amount: 3.3, merchant_category: 'x y', card_present: true },
    { amount: 77, merchant_category: 'GAMBLING', card_present: false },
  ];
  const events = join(dir, 'events.csv');
  writeFileSync(events, ['user_id,merchant_id,event_timestamp,amount,merchant_category,card_present', ...entities.map((e, i) => `${e.user_id},${e.merchant_id},${now},${requests[i].amount},${requests[i].merchant_category},${requests[i].card_present}`)].join('\n') + '\n');
  const out = join(dir, 'train.csv');
  const r = fsql(['--project-dir', dir, 'train', '--service', 'fraud_detection', '--events', events, '--out', out], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const [header, ...lines] = readFileSync(out, 'utf8').trimEnd().split('\n');
  const cols = header.split(',');
  assert.deepEqual(cols.filter((c) => c.startsWith('txn_vs_history__')), ['txn_vs_history__amount_vs_avg_7d', 'txn_vs_history__exceeds_3x_max_7d', 'txn_vs_history__risky_category', 'txn_vs_history__category_card']);
  assert.ok(!cols.includes('user_transaction_stats__avg_amount_7d') || cols.includes('user_transaction_stats__spend_7d'), 'inputs only on-demand views read are not output');
  for (let i = 0; i < entities.length; i++) {
    const row = Object.fromEntries(lines[i].split(',').map((v, j) => [cols[j], v]));
    const served = await srv.post(GET, { params: { feature_service_name: 'fraud_detection', join_key_map: entities[i], request_context_map: requests[i], metadata_options: { include_names: true } } });
    const byName = Object.fromEntries(served.json.metadata.features.map((f: { name: string }, j: number) => [f.name, served.json.result.features[j]]));
    assert.equal(Number(row.txn_vs_history__amount_vs_avg_7d), byName['txn_vs_history.amount_vs_avg_7d'], `row ${i} amount_vs_avg_7d`);
    assert.equal(row.txn_vs_history__exceeds_3x_max_7d, String(byName['txn_vs_history.exceeds_3x_max_7d']));
    assert.equal(row.txn_vs_history__risky_category, byName['txn_vs_history.risky_category']);
    assert.equal(row.txn_vs_history__category_card, byName['txn_vs_history.category_card']);
  }
  const missing = join(dir, 'events-missing.csv');
  writeFileSync(missing, `user_id,merchant_id,event_timestamp,amount,card_present\n${entities[0].user_id},${entities[0].merchant_id},${now},1,true\n`);
  const bad = fsql(['--project-dir', dir, 'train', '--service', 'fraud_detection', '--events', missing, '--out', join(dir, 'x.csv')], { cwd: dir });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /models\/ondemand\/txn_vs_history\.sql:1: on-demand view 'txn_vs_history' reads request field 'merchant_category' \(request source 'txn_request'\), which the events .*events-missing\.csv lack; add a column 'merchant_category' \(string\)/);
});

test("Feast's get-online-features takes the request data beside the entities", async () => {
  const [a, b] = recentEntities(dir, 2);
  const body = { feature_service: 'fraud_detection', entities: { user_id: [a.user_id, b.user_id], merchant_id: [a.merchant_id, b.merchant_id], amount: [10, 20.5], merchant_category: ['crypto', 'food'], card_present: [true, false] } };
  const r = await srv.post('/get-online-features', body);
  assert.equal(r.status, 200, r.text);
  const names: string[] = r.json.metadata.feature_names;
  const risky = r.json.results[names.indexOf('risky_category')];
  assert.deepEqual(risky.values, [1, 0]);
  assert.deepEqual(risky.statuses, ['PRESENT', 'PRESENT']);
  assert.deepEqual(r.json.results[names.indexOf('category_card')].values, ['CRYPTO:true', 'FOOD:false']);
  const tecton = await srv.post(GET, { params: { feature_service_name: 'fraud_detection', join_key_map: a, request_context_map: { amount: 10, merchant_category: 'crypto', card_present: true }, metadata_options: { include_names: true } } });
  const ratio = tecton.json.result.features[tecton.json.metadata.features.findIndex((f: { name: string }) => f.name === 'txn_vs_history.amount_vs_avg_7d')];
  assert.equal(r.json.results[names.indexOf('amount_vs_avg_7d')].values[0], ratio);
  const missing = await srv.post('/get-online-features', { ...body, entities: { ...body.entities, amount: undefined } });
  assert.equal(missing.status, 400);
  assert.equal(missing.json.code, 3);
  assert.match(missing.json.message, /request field 'amount' is missing from 'entities'/);
  const mistyped = await srv.post('/get-online-features', { ...body, entities: { ...body.entities, card_present: [true, 'no'] } });
  assert.equal(mistyped.status, 400);
  assert.match(mistyped.json.message, /entities\['card_present'\]\[1\]: request field 'card_present' is boolean/);
});

test('skew-check compares the on-demand features too, with the same request values on both sides (runs last: it alters a stored row)', async () => {
  const cli = (...args: string[]) => fsql(['--project-dir', dir, ...args], { cwd: dir });
  const ok = cli('skew-check', '--service', 'fraud_detection', '--sample', '20');
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout + ok.stderr, /20 entities x 17 features, \d+ values present on both sides, 0 difference/);
  // the stored input changes online only: the on-demand value computed from it differs too
  const layout = (await store.getLayouts()).find((l) => l.view === 'user_transaction_stats')!;
  const e = newestEntity(dir);
  const [row] = await store.read([{ layout, key: [e.user_id] }]);
  await store.write(layout, [{ key: [e.user_id], ts: row!.ts, values: { ...row!.values, avg_amount_7d: (row!.values.avg_amount_7d as number) * 2 } }]);
  const bad = cli('skew-check', '--service', 'fraud_detection', '--sample', '20');
  assert.equal(bad.code, 1, bad.stdout + bad.stderr);
  assert.match(bad.stdout + bad.stderr, /txn_vs_history\.amount_vs_avg_7d/);
  assert.match(bad.stdout + bad.stderr, /user_transaction_stats\.avg_amount_7d/);
});
