/**
 * The Redis store on a real three-node Redis Cluster started here: the key layout (every view of
 * an entity in the entity's slot, slots matching CLUSTER KEYSLOT, rows spread over the nodes), the
 * monotonic rule and TTL through the cluster, a one-entity vector in one request, dropView on every
 * node, and `fsql sync` / `fsql get` with `cluster: true` in profiles.yml.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { hashSlot, RedisKeys, entityId } from '../src/online/keys.js';
import { AGGREGATE_STATE, STATE_ENCODING } from '../src/online/codec.js';
import { openStore } from '../src/online/open.js';
import type { OnlineRow, OnlineStore, ViewLayout } from '../src/online/store.js';
import { planService, readVector } from '../src/online/vector.js';
import { Timestamp } from '../src/values.js';
import { fsql } from './helpers/project.js';
import { startRedisCluster, type RedisCluster } from './helpers/redis-cluster.js';
import { appendEvents, makeEvents, syncProject, target } from './helpers/sync-project.js';

const NS = { project: 'proj', target: 'cluster' };
const keys = new RedisKeys(NS);
const sec = (s: number) => Timestamp.fromMillis(Date.now() + s * 1000);
const layout = (view: string, key: string, ttlSeconds?: number): ViewLayout => ({
  view,
  joinKeys: [{ name: key, type: { type: 'string' } }],
  features: [{ name: 'x', type: { type: 'int64' } }],
  ...(ttlSeconds ? { ttlSeconds } : {}),
});
const A = layout('user_a', 'user_id');
const B = layout('user_b', 'user_id', 3600);
const M = layout('merchant_m', 'merchant_id');
const row = (key: string, ts: Timestamp, x: bigint): OnlineRow => ({ key: [key], ts, values: { x } });

let cluster: RedisCluster | undefined;
let skipReason: string | undefined;
let store: OnlineStore;
let nodes: Redis[] = [];

before(async () => {
  const started = await startRedisCluster(3);
  if (typeof started === 'string') {
    skipReason = started;
    return;
  }
  cluster = started;
  nodes = cluster.ports.map((p) => new Redis(p, '127.0.0.1'));
  store = await openStore({ type: 'redis', url: cluster.url, cluster: true }, NS);
  await store.ping();
});

after(async () => {
  await store?.close();
  for (const n of nodes) n.disconnect();
  await cluster?.stop();
});

const skip = (t: { skip(msg: string): void }) => {
  if (skipReason) t.skip(`no local Redis Cluster: ${skipReason}`);
  return Boolean(skipReason);
};

test('every view of one entity lives in the entity slot; rows spread over all nodes', async (t) => {
  if (skip(t)) return;
  const t0 = sec(-60);
  const users = Array.from({ length: 300 }, (_, i) => `u${i}`);
  for (const l of [A, B]) await store.write(l, users.map((u, i) => row(u, t0, BigInt(i))));
  await store.write(M, [row('m1', t0, 1n)]);
  for (const u of ['u0', 'u17', 'u299']) {
    const ka = keys.row('user_a', entityId(A, [u])!);
    const kb = keys.row('user_b', entityId(B, [u])!);
    const slot = Number(await nodes[0].cluster('KEYSLOT', ka));
    assert.equal(Number(await nodes[0].cluster('KEYSLOT', kb)), slot);
    assert.equal(hashSlot(ka), slot, 'fsql computes the same slot as Redis');
    const holders = await Promise.all(nodes.map(async (n) => Number(await n.cluster('COUNTKEYSINSLOT', slot))));
    assert.equal(holders.filter((c) => c >= 2).length, 1, 'both views of the entity are on one node');
  }
  const sizes = await Promise.all(nodes.map((n) => n.dbsize()));
  assert.ok(sizes.every((s) => s > 50), `rows spread over the nodes: ${sizes.join(', ')}`);
});

test('replace (compare and set) reaches the node of each key', async (t) => {
  if (skip(t)) return;
  const t0 = sec(-60);
  const users = Array.from({ length: 50 }, (_, i) => `cas${i}`);
  assert.deepEqual(await store.replace(A, users.map((u, i) => ({ row: row(u, t0, BigInt(i)), expected: undefined }))), users.map(() => true));
  const read = await store.read(users.map((u) => ({ layout: A, key: [u] })));
  const won = await store.replace(A, users.map((u, i) => ({ row: row(u, t0, BigInt(i + 100)), expected: i % 2 === 0 ? read[i] : undefined })));
  assert.deepEqual(won, users.map((_, i) => i % 2 === 0), 'only where the row read is still stored');
  const after = await store.read(users.map((u) => ({ layout: A, key: [u] })));
  assert.deepEqual(after.map((r) => r!.values.x), users.map((_, i) => BigInt(i % 2 === 0 ? i + 100 : i)));
});

test("an aggregate view's pushed events reach the node of each entity, come back with its row and are cut by a fold there", async (t) => {
  if (skip(t)) return;
  const agg: ViewLayout = { ...layout('user_agg', 'user_id', 3600), features: [{ name: AGGREGATE_STATE, type: { type: 'string' } }], aggregate: { horizonSeconds: 3600, inputs: [{ name: 'v', type: 'int64' }], features: [], encoding: STATE_ENCODING } };
  const s = sec(-60);
  const users = Array.from({ length: 50 }, (_, i) => `push${i}`);
  const lengths = await store.appendPushed(agg, { key: [], ts: s, values: { [AGGREGATE_STATE]: '[0]' } }, users.map((u, i) => ({ key: [u], text: `,${i},${i}`, keepUntil: Date.now() + 60_000 })));
  assert.deepEqual(lengths, users.map((_u, i) => `,${i},${i}`.length));
  const read = await store.read(users.map((u) => ({ layout: agg, key: [u] })));
  assert.deepEqual(read.map((r) => [r!.ts.micros, r!.text.slice(r!.at + 8), r!.pushed]), users.map((_u, i) => [s.micros, '[0]', `,${i},${i}`]));
  const folded = await store.replace(agg, users.map((u, i) => ({ row: { key: [u], ts: s, values: { [AGGREGATE_STATE]: '[1]' } }, expected: read[i], folded: { length: read[i]!.pushed!.length, kept: '' } })));
  assert.deepEqual(folded, users.map(() => true));
  assert.deepEqual((await store.read(users.map((u) => ({ layout: agg, key: [u] })))).map((r) => [r!.text.slice(r!.at + 8), r!.pushed]), users.map(() => ['[1]', undefined]));
  const sizes = await Promise.all(nodes.map((n) => n.dbsize()));
  assert.ok(sizes.every((n) => n > 0), `entities spread over the nodes: ${sizes.join(', ')}`);
});

test('the monotonic rule and TTL hold through the cluster', async (t) => {
  if (skip(t)) return;
  const t0 = sec(-30);
  await store.write(A, [row('mono', t0, 1n)]);
  assert.deepEqual(await store.write(A, [row('mono', t0.plusSeconds(-5), 2n), row('mono', t0.plusSeconds(-1), 3n)]), { written: 0, stale: 2 });
  assert.deepEqual(await store.write(A, [row('mono', t0.plusSeconds(5), 4n)]), { written: 1, stale: 0 });
  assert.equal((await store.read([{ layout: A, key: ['mono'] }]))[0]!.values.x, 4n);
  await store.write(B, [row('old', sec(-7200), 1n)]);
  assert.deepEqual(await store.read([{ layout: B, key: ['old'] }]), [undefined]);
  const k = keys.row('user_b', entityId(B, ['old'])!);
  const exists = await Promise.all(nodes.map((n) => n.exists(k).catch(() => 0)));
  assert.ok(exists.every((e) => e === 0), 'an expired row is not stored');
});

test("one entity's vector across its views is one MGET on one node", async (t) => {
  if (skip(t)) return;
  await store.putLayout(A);
  await store.putLayout(B);
  const plan = planService({ name: 'users', features: [{ view: 'user_a' }, { view: 'user_b' }] }, [A, B]);
  const mgets = async () => {
    let n = 0;
    for (const node of nodes) n += Number(/cmdstat_mget:calls=(\d+)/.exec(String(await node.info('commandstats')))?.[1] ?? 0);
    return n;
  };
  const before = await mgets();
  const v = await readVector(store, plan, { user_id: 'u17' });
  assert.equal((await mgets()) - before, 1);
  assert.deepEqual(v.map((f) => [f.name, f.value, f.status]), [
    ['user_a.x', 17n, 'PRESENT'],
    ['user_b.x', 17n, 'PRESENT'],
  ]);
});

test('dropView removes a view from every node and leaves the others', async (t) => {
  if (skip(t)) return;
  await store.dropView('user_a');
  const left = async (view: string) => {
    let n = 0;
    for (const node of nodes) n += (await node.keys(`${keys.viewPrefix(view)}*`)).length;
    return n;
  };
  assert.equal(await left('user_a'), 0);
  assert.ok((await left('user_b')) >= 300);
  assert.deepEqual((await store.getLayouts()).map((l) => l.view), ['user_b']);
});

test('fsql sync and fsql get with cluster: true in profiles.yml', async (t) => {
  if (skip(t)) return;
  const dir = syncProject(target('cl', `{type: redis, url: "${cluster!.url}", cluster: true}`));
  appendEvents(dir, makeEvents(500, 2, -3600, -60));
  const cli = (...args: string[]) => fsql(['--project-dir', dir, '--target', 'cl', ...args], { cwd: dir });
  assert.equal(cli('run').code, 0);
  const r = cli('sync');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /user_stats: 500 entities read, 500 written/);
  const again = cli('sync', '--select', 'user_stats', '--full-refresh');
  assert.match(again.stderr, /user_stats: 500 entities read, 500 written, 0 unchanged \(full\)/);
  const g = JSON.parse(cli('get', '--service', 'svc', '--key', 'user_id=u42', '--json').stdout);
  assert.ok(g.features.every((f: { status: string }) => f.status === 'PRESENT'));
  assert.equal(g.features.find((f: { name: string }) => f.name === 'user_stats.n').value, String(42 * 1000 + 1));
});
