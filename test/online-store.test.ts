/**
 * Both online stores against real servers: a redis-server started here and a SQLite file. The same
 * contract for each: typed round trips, the monotonic rule (also between processes racing), TTL
 * expiry done by the store itself, namespaces, layouts, watermarks, API keys, one-round-trip reads
 * and errors that name the store without its password.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { OnlineStoreError } from '../src/errors.js';
import { AGGREGATE_STATE, STATE_ENCODING } from '../src/online/codec.js';
import { openStore } from '../src/online/open.js';
import type { OnlineRow, OnlineStore, ViewLayout } from '../src/online/store.js';
import { planService, readVector } from '../src/online/vector.js';
import type { OnlineStoreConfig } from '../src/project/types.js';
import { Timestamp } from '../src/values.js';
import { freePort, startRedis, type RedisServer } from './helpers/redis.js';
import { rowsFor, type WriterJob } from './helpers/online-writer.js';
import { REPO_ROOT } from './helpers/project.js';

const NS = { project: 'proj', target: 'dev' };
const now = () => Timestamp.fromMillis(Date.now());
const sec = (s: number) => now().plusSeconds(s);

const USER: ViewLayout = {
  view: 'user_stats',
  joinKeys: [{ name: 'user_id', type: { type: 'string' } }],
  features: [
    { name: 'count', type: { type: 'int64' } },
    { name: 'spend', type: { type: 'float64' } },
    { name: 'tags', type: { type: 'array', elementType: { type: 'string' } } },
    { name: 'last_seen', type: { type: 'timestamp' } },
  ],
  ttlSeconds: 3600,
};
const MERCHANT: ViewLayout = {
  view: 'merchant_risk',
  joinKeys: [{ name: 'merchant_id', type: { type: 'int64' } }],
  features: [{ name: 'risk', type: { type: 'float64' } }, { name: 'flagged', type: { type: 'boolean' } }],
};
const row = (key: unknown[], ts: Timestamp, values: Record<string, unknown>, created?: Timestamp): OnlineRow => ({ key: key as OnlineRow['key'], ts, created, values: values as OnlineRow['values'] });

let redis: RedisServer;
let sqliteDir: string;

before(async () => {
  redis = await startRedis();
  sqliteDir = mkdtempSync(join(tmpdir(), 'fsql-online-'));
});

after(async () => {
  await redis?.stop();
});

const kinds: { name: string; config: () => OnlineStoreConfig }[] = [
  { name: 'sqlite', config: () => ({ type: 'sqlite', path: join(sqliteDir, 'online.sqlite') }) },
  { name: 'redis', config: () => ({ type: 'redis', url: redis.url }) },
];

for (const kind of kinds) {
  describe(`${kind.name} store`, () => {
    let store: OnlineStore;
    before(async () => {
      store = await openStore(kind.config(), NS, { purgeIntervalMs: 100 });
      await store.ping();
    });
    after(async () => {
      await store?.close();
    });

    test('typed values round trip; layouts, watermarks and API keys are kept; dropView removes a view only', async () => {
      await store.putLayout(USER);
      await store.putLayout(MERCHANT);
      assert.deepEqual((await store.getLayouts()).map((l) => l.view).sort(), ['merchant_risk', 'user_stats']);
      assert.deepEqual((await store.getLayouts()).find((l) => l.view === 'user_stats'), USER);
      const ts = new Timestamp(now().micros - 123457n);
      const seen = Timestamp.parse('2024-02-29T23:59:59.999999Z')!;
      const w = await store.write(USER, [row(['u:1{odd}'], ts, { count: 9007199254740993n, spend: -0.1, tags: ['a', 'ü'], last_seen: seen })]);
      assert.deepEqual(w, { written: 1, stale: 0 });
      await store.write(MERCHANT, [row([77n], ts, { risk: NaN, flagged: false })]);
      const [u, m, none] = await store.read([
        { layout: USER, key: ['u:1{odd}'] },
        { layout: MERCHANT, key: [77n] },
        { layout: USER, key: ['nobody'] },
      ]);
      assert.equal(u!.ts.micros, ts.micros);
      assert.deepEqual(u!.values, { count: 9007199254740993n, spend: -0.1, tags: ['a', 'ü'], last_seen: seen });
      assert.ok(Number.isNaN(m!.values.risk));
      assert.equal(m!.values.flagged, false);
      assert.equal(none, undefined);

      assert.equal(await store.getWatermark('user_stats'), undefined);
      await store.setWatermark('user_stats', ts);
      assert.equal((await store.getWatermark('user_stats'))!.micros, ts.micros);

      const key = { id: 'k1', hash: 'ab'.repeat(32), description: 'ci', services: ['fraud'], createdAt: '2024-01-01T00:00:00Z', revoked: false };
      await store.putApiKey(key);
      await store.putApiKey({ ...key, id: 'k2', hash: 'cd'.repeat(32), createdAt: '2024-01-02T00:00:00Z' });
      await store.putApiKey({ ...key, revoked: true });
      assert.deepEqual((await store.listApiKeys()).map((k) => [k.id, k.revoked]), [['k1', true], ['k2', false]]);
      assert.equal((await store.findApiKeyByHash('cd'.repeat(32)))?.id, 'k2');
      assert.equal(await store.findApiKeyByHash('ef'.repeat(32)), undefined);

      await store.dropView('user_stats');
      assert.deepEqual((await store.getLayouts()).map((l) => l.view), ['merchant_risk']);
      assert.equal(await store.getWatermark('user_stats'), undefined);
      const [u2, m2] = await store.read([{ layout: USER, key: ['u:1{odd}'] }, { layout: MERCHANT, key: [77n] }]);
      assert.equal(u2, undefined);
      assert.ok(m2, 'the other view is untouched');
    });

    test('monotonic: an older row never replaces a newer one; equal rows are no-ops; created breaks ties', async () => {
      const layout: ViewLayout = { ...MERCHANT, view: 'mono' };
      const t = sec(-100);
      assert.equal((await store.write(layout, [row([1n], t, { risk: 1, flagged: true })])).written, 1);
      assert.deepEqual(await store.write(layout, [row([1n], t.plusSeconds(-1), { risk: 0, flagged: false })]), { written: 0, stale: 1 });
      assert.deepEqual(await store.write(layout, [row([1n], t, { risk: 1, flagged: true })]), { written: 0, stale: 1 }, 'the same row again changes nothing');
      assert.deepEqual(await store.write(layout, [row([1n], t, { risk: 2, flagged: true })]), { written: 1, stale: 0 }, 'a recomputed row at the same time replaces');
      const c1 = sec(-50);
      assert.equal((await store.write(layout, [row([1n], t, { risk: 3, flagged: true }, c1)])).written, 1, 'a created timestamp beats none');
      assert.equal((await store.write(layout, [row([1n], t, { risk: 4, flagged: true }, c1.plusSeconds(-1))])).written, 0, 'an older created loses');
      // Within one batch the newest row of an entity wins, whatever the order.
      const batch = [row([2n], t, { risk: 6, flagged: true }), row([2n], t.plusSeconds(5), { risk: 5, flagged: true }), row([2n], t.plusSeconds(2), { risk: 7, flagged: true })];
      assert.deepEqual(await store.write(layout, batch), { written: 2, stale: 1 });
      const [one, two] = await store.read([{ layout, key: [1n] }, { layout, key: [2n] }]);
      assert.equal(one!.values.risk, 3);
      assert.equal(one!.created!.micros, c1.micros);
      assert.equal(two!.values.risk, 5);
      assert.deepEqual(await store.write(layout, [row([null], t, { risk: 1 })]), { written: 0, stale: 1 }, 'a NULL key is never stored');
    });

    test('values of every size round trip on every write path: new keys, updates, updates after updates', async () => {
      // Stored values from 46 bytes to over 100 KB (their RESP lengths have 2 to 6 digits), some
      // with non-ASCII text; a row with no TTL and one with a TTL; the three rounds take the
      // paths a sync takes: SET NX for new keys, the script for keys that exist, then the script
      // directly once a batch found no new keys.
      const flagOnly: ViewLayout = { view: 'sizes_flag', joinKeys: [{ name: 'id', type: { type: 'string' } }], features: [{ name: 'b', type: { type: 'boolean' } }] };
      const text: ViewLayout = { view: 'sizes_text', joinKeys: [{ name: 'id', type: { type: 'int64' } }], features: [{ name: 's', type: { type: 'string' } }, { name: 'n', type: { type: 'int64' } }], ttlSeconds: 86400 };
      const lengths = [0, 1, 20, 60, 900, 950, 1000, 9990, 100_000];
      for (const round of [0, 1, 2]) {
        const t = sec(-100 + round);
        const flags = lengths.map((_, i) => row([`f${i}`], t, { b: (i + round) % 2 === 0 }));
        const texts = lengths.map((len, i) => row([BigInt(i)], t, { s: (i % 2 ? 'ü' : 'a').repeat(len) + round, n: BigInt(-round * 1e15 - i) }));
        assert.deepEqual(await store.write(flagOnly, flags), { written: lengths.length, stale: 0 }, `round ${round}`);
        assert.deepEqual(await store.write(text, texts), { written: lengths.length, stale: 0 }, `round ${round}`);
        const got = await store.read([...flags.map((r) => ({ layout: flagOnly, key: r.key })), ...texts.map((r) => ({ layout: text, key: r.key }))]);
        [...flags, ...texts].forEach((r, i) => {
          assert.equal(got[i]?.ts.micros, t.micros, `round ${round}, row ${i}`);
          assert.deepEqual(got[i]!.values, r.values, `round ${round}, row ${i}`);
        });
      }
    });

    test('processes racing each other with shuffled rows leave each entity at its newest row', async () => {
      const layout: ViewLayout = { view: 'race', joinKeys: [{ name: 'id', type: { type: 'string' } }], features: [{ name: 'who', type: { type: 'int64' } }, { name: 'step', type: { type: 'int64' } }] };
      await store.putLayout(layout);
      const base: Omit<WriterJob, 'writer' | 'seed'> = { config: kind.config(), ns: NS, layout, writers: 3, entities: 400, rowsPerEntity: 6, baseMicros: String(sec(-1000).micros) };
      const jobs: WriterJob[] = [0, 1, 2].map((writer) => ({ ...base, writer, seed: 1000 + writer }));
      const script = join(REPO_ROOT, 'dist', 'test', 'helpers', 'online-writer.js');
      await Promise.all(
        jobs.map(
          (job) =>
            new Promise<void>((resolve, reject) => {
              const child = spawn(process.execPath, [script, JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'pipe'] });
              let err = '';
              child.stderr.on('data', (d) => (err += d));
              child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writer ${job.writer} exited ${code}: ${err}`))));
            }),
        ),
      );
      const newest = new Map<string, { step: bigint; who: bigint }>();
      for (const job of jobs) {
        for (const r of rowsFor(job)) {
          const k = r.key[0] as string;
          const have = newest.get(k);
          if (!have || (r.values.step as bigint) > have.step) newest.set(k, { step: r.values.step as bigint, who: r.values.who as bigint });
        }
      }
      const keys = [...newest.keys()];
      const got = await store.read(keys.map((k) => ({ layout, key: [k] })));
      keys.forEach((k, i) => assert.deepEqual(got[i]!.values, newest.get(k), `entity ${k}`));
    });

    test('TTL belongs to the view: the store itself removes a value at ts + ttl, and one already past it at once', async () => {
      // Its own Redis database, so what is stored underneath is this test's alone.
      const config = kind.name === 'redis' ? { type: 'redis' as const, url: `${redis.url}/5` } : kind.config();
      const ttlStore = await openStore(config, NS, { purgeIntervalMs: 0 });
      try {
        const layout: ViewLayout = { view: 'short', joinKeys: [{ name: 'id', type: { type: 'string' } }], features: [{ name: 'x', type: { type: 'int64' } }], ttlSeconds: 3600 };
        const forever: ViewLayout = { ...layout, view: 'forever', ttlSeconds: undefined };
        const live = sec(-60);
        await ttlStore.write(layout, [row(['a'], live, { x: 1n }), row(['b'], sec(-3601), { x: 2n })]);
        await ttlStore.write(forever, [row(['a'], sec(-86400 * 365), { x: 3n })]);
        const [a, b, f] = await ttlStore.read([{ layout, key: ['a'] }, { layout, key: ['b'] }, { layout: forever, key: ['a'] }]);
        assert.equal(a!.values.x, 1n);
        assert.equal(b, undefined, 'a row already past its TTL is removed by the write that brings it');
        assert.equal(f!.values.x, 3n, 'a view without TTL keeps its values');
        // Removed, not only hidden, and due to be removed at ts + ttl: what is stored underneath.
        assert.deepEqual(await storedExpiries(config, 'short'), [live.millis + 3600_000]);
        assert.deepEqual(await storedExpiries(config, 'forever'), [null]);
        // An older row arriving after expiry cannot bring the entity back.
        await ttlStore.write(layout, [row(['b'], sec(-5000), { x: 0n })]);
        assert.deepEqual(await ttlStore.read([{ layout, key: ['b'] }]), [undefined]);
      } finally {
        await ttlStore.close();
      }
    });

    test('keys are namespaced: another project or target on the same store sees nothing of this one', async () => {
      const other = await openStore(kind.config(), { project: 'proj', target: 'prod' }, { purgeIntervalMs: 0 });
      const third = await openStore(kind.config(), { project: 'other', target: 'dev' }, { purgeIntervalMs: 0 });
      try {
        const layout: ViewLayout = { ...MERCHANT, view: 'shared' };
        const t = sec(-10);
        await store.write(layout, [row([5n], t, { risk: 1, flagged: true })]);
        await other.write(layout, [row([5n], t.plusSeconds(-5), { risk: 2, flagged: false })]);
        assert.equal((await third.read([{ layout, key: [5n] }]))[0], undefined);
        assert.equal((await other.read([{ layout, key: [5n] }]))[0]!.values.risk, 2, 'an older row in another namespace is not stale');
        await other.setWatermark('shared', t);
        assert.equal(await third.getWatermark('shared'), undefined);
        await other.dropView('shared');
        assert.equal((await store.read([{ layout, key: [5n] }]))[0]!.values.risk, 1);
      } finally {
        await other.close();
        await third.close();
      }
    });

    test('sync records: successes with rows, finish time and duration; failures counted apart', async () => {
      const view = `synced_${kind.name}`;
      await store.recordSync(view, { ok: true, rows: 10, seconds: 2.5, at: Timestamp.fromMillis(1_700_000_000_000) });
      await store.recordSync(view, { ok: false });
      await store.recordSync(view, { ok: true, rows: 5, seconds: 1.25, at: Timestamp.fromMillis(1_700_000_100_000) });
      await store.recordSync(view, { ok: false });
      const stats = (await store.getSyncStats()).find((s) => s.view === view);
      assert.deepEqual(stats, { view, runs: 2, rows: 15, failures: 2, lastSuccess: 1_700_000_100, duration: 1.25 });
      await store.recordSync(`${view}_broken`, { ok: false });
      assert.deepEqual((await store.getSyncStats()).find((s) => s.view === `${view}_broken`), { view: `${view}_broken`, runs: 0, rows: 0, failures: 1 });
    });

    test('replace is compare and set: it writes where the stored row is still the one read, and tells the loser of a race to read again', async () => {
      const layout: ViewLayout = { ...USER, view: 'cas_user' };
      await store.putLayout(layout);
      const t = sec(-10);
      const first = row(['u1'], t, { count: 1n, spend: 1, tags: ['a'], last_seen: t });
      assert.deepEqual(await store.replace(layout, [{ row: first, expected: undefined }]), [true], 'absent: inserted');
      assert.deepEqual(await store.replace(layout, [{ row: first, expected: undefined }]), [false], 'no longer absent');
      const [read] = await store.read([{ layout, key: ['u1'] }]);
      assert.equal(read!.values.count, 1n);
      // two writers read the same row; the first to replace it wins, the second must read again
      const a = row(['u1'], t, { count: 2n, spend: 2, tags: ['a', 'b'], last_seen: t });
      const b = row(['u1'], t, { count: 3n, spend: 3, tags: ['a', 'c'], last_seen: t });
      assert.deepEqual(await store.replace(layout, [{ row: a, expected: read }]), [true]);
      assert.deepEqual(await store.replace(layout, [{ row: b, expected: read }]), [false]);
      const [now2] = await store.read([{ layout, key: ['u1'] }]);
      assert.deepEqual([now2!.values.count, now2!.values.tags], [2n, ['a', 'b']]);
      assert.deepEqual(await store.replace(layout, [{ row: b, expected: now2 }, { row: row([null], t, { count: 0n, spend: 0, tags: [], last_seen: t }), expected: undefined }]), [true, false], 'a NULL key is never written');
      const [last] = await store.read([{ layout, key: ['u1'] }]);
      assert.equal(last!.values.count, 3n);
      // the row's TTL applies as in write(): one already past it is gone
      const old = row(['u2'], sec(-7200), { count: 1n, spend: 1, tags: [], last_seen: t });
      assert.deepEqual(await store.replace(layout, [{ row: old, expected: undefined }]), [true]);
      if (kind.name === 'redis') assert.deepEqual(await store.read([{ layout, key: ['u2'] }]), [undefined], 'Redis expired it at once');
    });

    test("an aggregate view's pushed events: appended without a read, returned with the row, cut by a fold, gone with their time or the view", async () => {
      const layout: ViewLayout = {
        view: 'pushed_agg',
        joinKeys: [{ name: 'user_id', type: { type: 'string' } }],
        features: [{ name: AGGREGATE_STATE, type: { type: 'string' } }],
        ttlSeconds: 3600,
        aggregate: { horizonSeconds: 3600, inputs: [{ name: 'amount', type: 'float64' }], features: [], encoding: STATE_ENCODING },
      };
      await store.putLayout(layout);
      const s = sec(-60);
      const state = (key: string[], ts: Timestamp, text: string) => row(key, ts, { [AGGREGATE_STATE]: text });
      const empty = state([], s, 'empty');
      const keep = Date.now() + 60_000;
      const read = async (users: string[]) => (await store.read(users.map((u) => ({ layout, key: [u] })))).map((r) => r && [r.ts.micros, r.text.slice(r.at + 8), r.pushed]); // the state follows the layout's fingerprint
      // u1 has a state at the sync time s, u2 an older one (no events at s), u3 none
      await store.write(layout, [state(['u1'], s, 'full'), state(['u2'], sec(-120), 'old')]);
      const pushed = (user: string, text: string, until = keep) => ({ key: [user], text, keepUntil: until });
      assert.deepEqual(await store.appendPushed(layout, empty, [pushed('u1', ',1,2'), pushed('u2', ',3,4'), pushed('u3', ',5,6')]), [4, 4, 4]);
      assert.deepEqual(await read(['u1', 'u2', 'u3']), [[s.micros, 'full', ',1,2'], [s.micros, 'empty', ',3,4'], [s.micros, 'empty', ',5,6']], 'the empty state only where none is as new');
      assert.deepEqual(await store.appendPushed(layout, empty, [pushed('u1', ',7,8', Date.now() + 1000)]), [8]);
      if (kind.name === 'redis') {
        // a log is kept until the latest time asked for: an earlier one does not shorten it
        const admin = new Redis(redis.port, '127.0.0.1');
        try {
          const logs = await admin.keys('*:pushed_agg:{user_id=u1}:p:*');
          assert.equal(logs.length, 1);
          assert.equal(await admin.pexpiretime(logs[0]), keep);
        } finally {
          admin.disconnect();
        }
      }
      // a fold: the state replaced and the folded start of the log cut; what was appended meanwhile stays
      const [u1] = await store.read([{ layout, key: ['u1'] }]);
      await store.appendPushed(layout, empty, [pushed('u1', ',9,10')]);
      assert.deepEqual(await store.replace(layout, [{ row: state(['u1'], s, 'folded'), expected: u1, folded: { length: u1!.pushed!.length, kept: '' } }]), [true]);
      assert.deepEqual(await read(['u1']), [[s.micros, 'folded', ',9,10']]);
      assert.deepEqual(await store.replace(layout, [{ row: state(['u1'], s, 'folded'), expected: u1, folded: { length: 5, kept: '' } }]), [false], 'compare and set: a stale fold cuts nothing');
      const [again] = await store.read([{ layout, key: ['u1'] }]);
      assert.deepEqual(await store.replace(layout, [{ row: state(['u1'], s, 'all folded'), expected: again, folded: { length: again!.pushed!.length, kept: '' } }]), [true]);
      assert.deepEqual(await read(['u1']), [[s.micros, 'all folded', undefined]]);
      // a fold that keeps some of the events it read: they take the folded start's place, before those appended meanwhile
      await store.appendPushed(layout, empty, [pushed('u1', ',11,12,13,14')]);
      const [long] = await store.read([{ layout, key: ['u1'] }]);
      await store.appendPushed(layout, empty, [pushed('u1', ',15,16')]);
      assert.deepEqual(await store.replace(layout, [{ row: state(['u1'], s, 'kept'), expected: long, folded: { length: long!.pushed!.length, kept: ',13,14' } }]), [true]);
      assert.deepEqual(await read(['u1']), [[s.micros, 'kept', ',13,14,15,16']]);
      // a log past its time is not returned; dropView takes the logs with the rows
      await store.appendPushed(layout, empty, [pushed('u4', ',1,1', Date.now() - 1000)]);
      assert.deepEqual(await read(['u4']), [[s.micros, 'empty', undefined]]);
      await store.dropView(layout.view);
      await store.putLayout(layout);
      await store.write(layout, [state(['u2'], s, 'again'), state(['u3'], s, 'again')]);
      assert.deepEqual(await read(['u2', 'u3']), [[s.micros, 'again', undefined], [s.micros, 'again', undefined]]);
    });

    test("a service's vector: PRESENT with effective times, MISSING_DATA past the TTL or for an unknown entity", async () => {
      const user: ViewLayout = { ...USER, view: 'vec_user', ttlSeconds: 60 };
      const merchant: ViewLayout = { ...MERCHANT, view: 'vec_merchant' };
      await store.putLayout(user);
      await store.putLayout(merchant);
      const t = sec(-30);
      await store.write(user, [row(['u1'], t, { count: 3n, spend: 1.5, tags: [], last_seen: t })]);
      await store.write(merchant, [row([9n], t, { risk: 0.25, flagged: true })]);
      const plan = planService({ name: 'svc', features: [{ view: 'vec_user', features: ['count', 'spend'] }, { view: 'vec_merchant' }] }, await store.getLayouts());
      const v = await readVector(store, plan, { user_id: 'u1', merchant_id: '9' });
      assert.deepEqual(v.map((f) => [f.name, f.value, f.status]), [
        ['vec_merchant.flagged', true, 'PRESENT'],
        ['vec_merchant.risk', 0.25, 'PRESENT'],
        ['vec_user.count', 3n, 'PRESENT'],
        ['vec_user.spend', 1.5, 'PRESENT'],
      ]);
      assert.ok(v.every((f) => f.effectiveTime!.micros === t.micros));
      const later = await readVector(store, plan, { user_id: 'u1', merchant_id: 9 }, { now: sec(45) });
      assert.deepEqual(later.map((f) => f.status), ['PRESENT', 'PRESENT', 'MISSING_DATA', 'MISSING_DATA']);
      assert.deepEqual(later.map((f) => f.value).slice(2), [null, null]);
      const unknown = await readVector(store, plan, { user_id: 'nobody', merchant_id: 9 });
      assert.deepEqual(unknown.map((f) => [f.status, f.reason ?? null]).slice(2), [['MISSING_DATA', 'not_found'], ['MISSING_DATA', 'not_found']]);
    });
  });
}

test('redis: a vector of several views is one round trip (one MGET, nothing else)', async () => {
  const store = await openStore({ type: 'redis', url: redis.url }, NS);
  const spy = new Redis(redis.port, '127.0.0.1');
  try {
    const a: ViewLayout = { view: 'rt_a', joinKeys: [{ name: 'user_id', type: { type: 'string' } }], features: [{ name: 'x', type: { type: 'int64' } }] };
    const b: ViewLayout = { ...a, view: 'rt_b' };
    const c: ViewLayout = { view: 'rt_c', joinKeys: [{ name: 'merchant_id', type: { type: 'string' } }], features: [{ name: 'y', type: { type: 'int64' } }] };
    for (const l of [a, b, c]) {
      await store.putLayout(l);
      await store.write(l, [row(l.view === 'rt_c' ? ['m'] : ['u'], sec(-1), { x: 1n, y: 2n })]);
    }
    const plan = planService({ name: 's', features: [{ view: 'rt_a' }, { view: 'rt_b' }, { view: 'rt_c' }] }, await store.getLayouts());
    const calls = async () => {
      const stats = String(await spy.info('commandstats'));
      const total = [...stats.matchAll(/cmdstat_(\w+(?:\|\w+)?):calls=(\d+)/g)].filter(([, name]) => name !== 'info').reduce((n, m) => n + Number(m[2]), 0);
      return { total, mget: Number(/cmdstat_mget:calls=(\d+)/.exec(stats)?.[1] ?? 0) };
    };
    const before = await calls();
    const v = await readVector(store, plan, { user_id: 'u', merchant_id: 'm' });
    const afterRead = await calls();
    assert.deepEqual(v.map((f) => f.status), ['PRESENT', 'PRESENT', 'PRESENT']);
    assert.equal(afterRead.mget - before.mget, 1);
    assert.equal(afterRead.total - before.total, 1);
  } finally {
    spy.disconnect();
    await store.close();
  }
});

test('redis: a server that lost its scripts (restart, SCRIPT FLUSH) gets the script again, rows intact', async () => {
  const store = await openStore({ type: 'redis', url: redis.url }, { project: 'noscript', target: 't' });
  const admin = new Redis(redis.port, '127.0.0.1');
  try {
    const layout: ViewLayout = { ...MERCHANT, view: 'ns' };
    const t = sec(-60);
    const rows = (dt: number, risk: number) => Array.from({ length: 1200 }, (_, i) => row([BigInt(i)], t.plusSeconds(dt), { risk, flagged: true }));
    assert.equal((await store.write(layout, rows(0, 1))).written, 1200);
    assert.equal((await store.write(layout, rows(1, 2))).written, 1200, 'existing keys: through the script');
    await admin.script('FLUSH');
    assert.deepEqual(await store.write(layout, rows(2, 3)), { written: 1200, stale: 0 });
    assert.deepEqual(await store.write(layout, rows(-5, 4)), { written: 0, stale: 1200 });
    const got = await store.read([{ layout, key: [0n] }, { layout, key: [1199n] }]);
    assert.deepEqual(got.map((g) => g!.values.risk), [3, 3]);
  } finally {
    admin.disconnect();
    await store.close();
  }
});

test('redis errors name the URL without its password: unreachable, and refused credentials', async () => {
  const port = await freePort();
  const down = await openStore({ type: 'redis', url: `redis://:hunter22secret@127.0.0.1:${port}` }, NS);
  await assert.rejects(down.ping(), (e: Error) => e instanceof OnlineStoreError && e.message.includes(`cannot reach Redis at redis://:****@127.0.0.1:${port}`) && !e.message.includes('hunter22secret'));
  await down.close();
  const locked = await startRedis(['--requirepass', 'right-password']);
  try {
    const wrong = await openStore({ type: 'redis', url: `redis://:wrong-password@127.0.0.1:${locked.port}` }, NS);
    await assert.rejects(wrong.ping(), (e: Error) => e instanceof OnlineStoreError && /refused the credentials/.test(e.message) && !e.message.includes('wrong-password'));
    await wrong.close();
    const none = await openStore({ type: 'redis', url: locked.url }, NS);
    await assert.rejects(none.getLayouts(), (e: Error) => e instanceof OnlineStoreError && /refused the credentials/.test(e.message));
    await none.close();
    const right = await openStore({ type: 'redis', url: `redis://:right-password@127.0.0.1:${locked.port}` }, NS);
    await right.ping();
    await right.close();
  } finally {
    await locked.stop();
  }
});

test('redis reads: a broken connection is opened again; a refused password and an unreachable server name the URL without the password', async () => {
  const locked = await startRedis(['--requirepass', 'read-secret']);
  const admin = new Redis(locked.port, '127.0.0.1', { password: 'read-secret' });
  const url = `redis://:read-secret@127.0.0.1:${locked.port}`;
  const store = await openStore({ type: 'redis', url }, NS);
  try {
    await store.write(MERCHANT, [row([1n], sec(-60), { risk: 0.5, flagged: true })]);
    const read = async () => (await store.read([{ layout: MERCHANT, key: [1n] }]))[0]?.values.risk;
    assert.equal(await read(), 0.5);
    await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    assert.equal(await read(), 0.5, 'read again over a new connection, at once');
    const wrong = await openStore({ type: 'redis', url: `redis://:wrong-secret@127.0.0.1:${locked.port}` }, NS);
    await assert.rejects(wrong.read([{ layout: MERCHANT, key: [1n] }]), (e: Error) => e instanceof OnlineStoreError && /refused the credentials/.test(e.message) && !e.message.includes('wrong-secret'));
    await wrong.close();
    await locked.stop();
    await assert.rejects(read(), (e: Error) => e instanceof OnlineStoreError && e.message.includes(`Redis at redis://:****@127.0.0.1:${locked.port}`) && !e.message.includes('read-secret'));
    await assert.rejects(read(), (e: Error) => e instanceof OnlineStoreError && e.message.includes(`cannot reach Redis at redis://:****@127.0.0.1:${locked.port}`));
  } finally {
    admin.disconnect();
    await store.close();
    await locked.stop();
  }
});

/**
 * Rows of a view physically stored underneath, expired or not. Redis: the key count INFO reports
 * for the test's database (one view per TTL state there), which reading does not change.
 */
/** When each stored row of a view is due to be removed by the store (Unix ms; null: never), read underneath the store. */
async function storedExpiries(config: OnlineStoreConfig, view: string): Promise<(number | null)[]> {
  if (config.type === 'sqlite') {
    const db = new Database(config.path!, { readonly: true });
    try {
      return (db.prepare('select expires_at from fsql_rows where view = ?').pluck().all(view) as (number | null)[]).map((us) => (us === null ? null : Math.floor(us / 1000)));
    } finally {
      db.close();
    }
  }
  const client = new Redis(config.url!);
  try {
    const keys = await client.keys(`*:r:${view}:*`);
    return Promise.all(keys.map(async (k) => {
      const at = Number(await client.call('PEXPIRETIME', k));
      return at < 0 ? null : at;
    }));
  } finally {
    client.disconnect();
  }
}

test('sqlite: a store written before sync failures and times were recorded gains those columns and keeps its counts', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'fsql-online-old-')), 'online.sqlite');
  const old = new Database(path);
  old.exec('create table fsql_sync_stats (ns integer not null, view text not null, runs integer not null, rows integer not null, primary key (ns, view)) without rowid');
  old.exec("create table fsql_namespaces (id integer primary key, project text not null, target text not null, unique (project, target)); insert into fsql_namespaces (project, target) values ('proj', 'dev')");
  old.exec("insert into fsql_sync_stats values (1, 'v', 3, 30)");
  old.close();
  const store = await openStore({ type: 'sqlite', path }, NS, { purgeIntervalMs: 0 });
  try {
    assert.deepEqual(await store.getSyncStats(), [{ view: 'v', runs: 3, rows: 30, failures: 0 }]);
    await store.recordSync('v', { ok: false });
    await store.recordSync('v', { ok: true, rows: 1, seconds: 0.5, at: Timestamp.fromMillis(2_000_000_000_000) });
    assert.deepEqual(await store.getSyncStats(), [{ view: 'v', runs: 4, rows: 31, failures: 1, lastSuccess: 2_000_000_000, duration: 0.5 }]);
  } finally {
    await store.close();
  }
});
