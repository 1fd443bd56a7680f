/**
 * Malformed and mutated requests for every endpoint of the feature server, from a seeded
 * generator (a failure reproduces), and the check every answer must pass: a 200, or a 4xx JSON
 * error {error, message, code}; never a 5xx.
 */
import assert from 'node:assert/strict';
import type { HttpReply } from './serve.js';
import { seededRandom } from '../../src/seeded-random.js';

let rand = seededRandom(20240531);
const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];

/** Restarts the generator (each test file its own reproducible sequence). */
export function seedFuzz(seed: number): void {
  rand = seededRandom(seed);
}

export function random(): number {
  return rand();
}

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

export function randomValue(depth = 0): unknown {
  const r = rand();
  if (depth > 3 || r < 0.5) return randomScalar();
  if (r < 0.75) return Array.from({ length: Math.floor(rand() * 4) }, () => randomValue(depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = Math.floor(rand() * 4); i > 0; i--) o[pick(['a', 'params', 'join_key_map', 'user_id', '__proto__', 'constructor', 'features', 'df'])] = randomValue(depth + 1);
  return o;
}

export const VALID: [string, () => Record<string, unknown>][] = [
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

export interface FuzzCase {
  path: string;
  body: Buffer | string;
  what: string;
  /** malformed beyond doubt: a 200 would be a bug */
  mustFail: boolean;
}

/** Per endpoint: mutations of a valid request, cut JSON, random JSON and bytes, and the extremes. */
export function fuzzCases(counts: { mutations: number; cuts: number; randomJson: number; randomBytes: number }): FuzzCase[] {
  const cases: FuzzCase[] = [];
  for (const [path, valid] of VALID) {
    const text = JSON.stringify(valid());
    // the metadata endpoint reads no join keys: a bad join_key_map does not concern it
    const usesKeys = !path.endsWith('/metadata');
    for (let i = 0; i < counts.mutations; i++) cases.push({ path, body: JSON.stringify(mutate(valid())), what: `mutation ${i} of ${path}`, mustFail: false });
    for (let i = 0; i < counts.cuts; i++) cases.push({ path, body: cut(text), what: `cut ${path}`, mustFail: true });
    for (let i = 0; i < counts.randomJson; i++) cases.push({ path, body: JSON.stringify(randomValue()), what: `random JSON to ${path}`, mustFail: false });
    for (let i = 0; i < counts.randomBytes; i++) cases.push({ path, body: randomBytes(Math.floor(rand() * 300) + 1), what: `random bytes to ${path}`, mustFail: true });
    cases.push({ path, body: '['.repeat(200_000) + ']'.repeat(200_000), what: 'deep array', mustFail: true });
    cases.push({ path, body: '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000), what: 'deep object', mustFail: true });
    cases.push({ path, body: '['.repeat(500_000), what: 'unclosed deep array', mustFail: true });
    cases.push({ path, body: `{"params":{"feature_service_name":"fraud_detection","join_key_map":{"user_id":"u","merchant_id":${'['.repeat(50_000)}${']'.repeat(50_000)}}}}`, what: 'deep join key', mustFail: usesKeys });
    cases.push({ path, body: JSON.stringify({ params: { feature_service_name: 'x'.repeat(900_000) } }), what: 'huge name', mustFail: true });
    cases.push({ path, body: `{"params":{"feature_service_name":"fraud_detection","join_key_map":{${Array.from({ length: 20000 }, (_, i) => `"k${i}":1`).join(',')}}}}`, what: 'wide map', mustFail: usesKeys });
    cases.push({ path, body: '"' + '\\u0000'.repeat(100000) + '"', what: 'string of NULs', mustFail: true });
    cases.push({ path, body: '1e999999', what: 'infinite number', mustFail: true });
  }
  return cases;
}

export function checkAnswer(r: HttpReply, what: string): void {
  assert.ok(r.status === 200 || (r.status >= 400 && r.status < 500), `${what}: status ${r.status} ${r.text.slice(0, 300)}`);
  assert.ok(r.json !== undefined, `${what}: the answer is not JSON: ${r.text.slice(0, 200)}`);
  if (r.status !== 200) {
    assert.deepEqual(Object.keys(r.json), ['error', 'message', 'code'], what);
    assert.equal(typeof r.json.message, 'string');
    assert.ok(r.json.message.length < 2000, `${what}: message of ${r.json.message.length} characters`);
    assert.ok(Number.isInteger(r.json.code) && r.json.code > 0, what);
  }
}

export async function inParallel<T>(items: T[], width: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

/** Sends every case (16 at a time); returns the malformed ones that were answered 200. */
export async function sendAll(send: (c: FuzzCase) => Promise<HttpReply>, cases: FuzzCase[]): Promise<string[]> {
  const wrong: string[] = [];
  await inParallel(cases, 16, async (c) => {
    const r = await send(c);
    checkAnswer(r, c.what);
    if (c.mustFail && r.status === 200) wrong.push(`${c.what}: ${String(c.body).slice(0, 200)} -> ${r.text.slice(0, 200)}`);
  });
  return wrong;
}
