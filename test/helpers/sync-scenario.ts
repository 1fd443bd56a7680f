/**
 * The sync scenario both stores must pass, through the real binary: the first sync, ties by
 * created_timestamp, NULL keys, rows dated in the future, fsql get, incremental runs with late rows
 * inside and outside the lookback, --full-refresh, freshness, and a layout change.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openOnlineStore } from '../../src/online/open.js';
import type { OnlineStore } from '../../src/online/store.js';
import { loadProject } from '../../src/project/load.js';
import { Timestamp } from '../../src/values.js';
import { fsql } from './project.js';
import { appendEvents, expectedLatest, makeEvents, syncProject, target, USER_STATS, type EventRow } from './sync-project.js';

const at = (seconds: number) => Timestamp.fromMillis(Math.floor(Date.now() / 1000 + seconds) * 1000);

export async function withStore<T>(dir: string, targetName: string, fn: (s: OnlineStore) => Promise<T>): Promise<T> {
  const store = await openOnlineStore(loadProject({ projectDir: dir, target: targetName }), { purgeIntervalMs: 0 });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Asserts the online user_stats rows are exactly `expected`, entity by entity, values typed. */
export async function assertOnline(dir: string, targetName: string, expected: Map<string, EventRow>, users: string[]): Promise<void> {
  await withStore(dir, targetName, async (store) => {
    const layout = (await store.getLayouts()).find((l) => l.view === 'user_stats')!;
    assert.deepEqual(layout.features.map((f) => `${f.name}:${f.type.type}`), ['amount:float64', 'n:int64', 'flag:boolean', 'tag:string', 'pair:array']);
    const got = await store.read(users.map((u) => ({ layout, key: [u] })));
    users.forEach((u, i) => {
      const want = expected.get(u);
      if (!want) return assert.equal(got[i], undefined, `${u} must not be online`);
      assert.ok(got[i], `${u} must be online`);
      assert.equal(got[i]!.ts.micros, want.ts.micros, `${u}: ts`);
      assert.equal(got[i]!.created?.micros, want.created?.micros, `${u}: created`);
      assert.deepEqual(got[i]!.values, { amount: want.amount, n: want.n, flag: want.flag, tag: want.tag, pair: [want.n, want.n + 1n] }, `${u}: values`);
    });
  });
}

/** `redisUrl()` is read when the scenario starts: the Redis database for kind 'redis'. */
export function defineSyncScenario(kind: 'sqlite' | 'redis', redisUrl: () => string): void {
  describe(`sync into ${kind}`, () => {
    let dir: string;
    let targetName: string;
    const cli = (...args: string[]) => fsql(['--project-dir', dir, '--target', targetName, ...args], { cwd: dir });
    const rows: EventRow[] = [];
    let users: string[];

    before(() => {
      targetName = kind === 'sqlite' ? 'dev' : 'redis';
      dir = syncProject(kind === 'redis' ? target('redis', `{type: redis, url: "${redisUrl()}"}`) : '');
      rows.push(...makeEvents(40, 3, -5 * 3600, -2 * 3600));
      // u1: two rows at the same time, the later created wins; u2: a row dated in the future; a NULL key.
      const tie = at(-1800);
      rows.push({ user_id: 'u1', ts: tie, created: at(-1700), amount: 1.5, n: 1n, flag: true, tag: 'late-created' });
      rows.push({ user_id: 'u1', ts: tie, created: at(-1750), amount: 2.5, n: 2n, flag: false, tag: 'early-created' });
      rows.push({ user_id: 'u2', ts: at(3600), created: null, amount: 9, n: 9n, flag: true, tag: 'future' });
      // u4: at the same time a row with a created_timestamp beats one without (NULL sorts lowest).
      rows.push({ user_id: 'u4', ts: at(-1500), created: at(-1400), amount: 4.5, n: 4n, flag: true, tag: 'with-created' });
      rows.push({ user_id: 'u4', ts: at(-1500), created: null, amount: 5.5, n: 5n, flag: false, tag: 'null-created' });
      rows.push({ user_id: null, ts: at(-100), created: null, amount: 0, n: 0n, flag: false, tag: 'nobody' });
      // u6 and u7 only have old rows, so late rows can land just inside / just outside the lookback.
      for (let i = rows.length - 1; i >= 0; i--) if (rows[i].user_id === 'u6' || rows[i].user_id === 'u7') rows.splice(i, 1);
      rows.push({ user_id: 'u6', ts: at(-6 * 3600), created: null, amount: 6, n: 6n, flag: true, tag: 'old' });
      rows.push({ user_id: 'u7', ts: at(-6 * 3600), created: null, amount: 7, n: 7n, flag: true, tag: 'old' });
      appendEvents(dir, rows);
      users = [...new Set(rows.map((r) => r.user_id).filter((u): u is string => u !== null)), 'u_unknown'];
    });

    test('first sync pushes the latest row per entity: ties by created, no NULL keys, nothing dated in the future', async () => {
      assert.equal(cli('run').code, 0);
      const r = cli('sync');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /SKIP audit: online is false/);
      assert.match(r.stderr, /OK {3}user_stats: 40 entities read, 40 written, 0 unchanged/);
      assert.match(r.stderr, /OK {3}stale_view: 0 entities read/);
      const expected = expectedLatest(rows, Timestamp.fromMillis(Date.now()));
      assert.equal(expected.get('u1')!.tag, 'late-created');
      assert.notEqual(expected.get('u2')!.tag, 'future');
      assert.equal(expected.get('u4')!.tag, 'with-created');
      await assertOnline(dir, targetName, expected, users);
    });

    test('fsql get prints the vector with types, effective times and statuses', () => {
      const r = cli('get', '--service', 'svc', '--key', 'user_id=u1');
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split('\n');
      assert.match(lines[0], /^feature\s+type\s+value\s+effective time\s+status$/);
      assert.deepEqual(lines.slice(1).map((l) => l.split(/\s{2,}/)[0]), ['user_stats.amount', 'user_stats.flag', 'user_stats.n', 'user_stats.pair', 'user_stats.tag']);
      assert.match(r.stdout, /user_stats\.n\s+int64\s+1\s+\S+Z\s+PRESENT/);
      assert.match(r.stdout, /user_stats\.pair\s+array<int64>\s+\["1","2"\]/);
      const j = JSON.parse(cli('get', '--service', 'svc', '--key', 'user_id=u1', '--json').stdout);
      assert.deepEqual(j.features.map((f: { value: unknown }) => f.value), [1.5, true, '1', ['1', '2'], 'late-created']);
      const missing = JSON.parse(cli('get', '--service', 'svc', '--key', 'user_id=u_unknown', '--json').stdout);
      assert.deepEqual(missing.features.map((f: { status: string; value: unknown }) => [f.status, f.value]), Array(5).fill(['MISSING_DATA', null]));
      const bad = cli('get', '--service', 'svc', '--key', 'merchant_id=m1');
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /unknown join key 'merchant_id'/);
      assert.equal(cli('get', '--service', 'nope', '--key', 'user_id=u1').code, 1);
    });

    test('incremental: new rows and late rows inside the lookback arrive, rows before it wait for --full-refresh', async () => {
      const watermark = await withStore(dir, targetName, (s) => s.getWatermark('user_stats'));
      assert.ok(watermark);
      const late: EventRow[] = [
        { user_id: 'u3', ts: at(-60), created: null, amount: 33, n: 33n, flag: false, tag: 'new' },
        { user_id: 'u_new', ts: at(-30), created: null, amount: 1, n: 100n, flag: true, tag: 'new' },
        { user_id: 'u6', ts: watermark.plusSeconds(-1800), created: null, amount: 66, n: 66n, flag: false, tag: 'late-inside' },
        { user_id: 'u7', ts: watermark.plusSeconds(-7200), created: null, amount: 77, n: 77n, flag: false, tag: 'late-outside' },
      ];
      rows.push(...late);
      users.push('u_new');
      appendEvents(dir, late);
      assert.equal(cli('run').code, 0);
      const r = cli('sync', '--select', 'user_stats');
      assert.equal(r.code, 0, r.stderr);
      const read = Number(/user_stats: (\d+) entities read/.exec(r.stderr)![1]);
      assert.ok(read < 20, `an incremental sync reads only the lookback window, not all 41 entities (read ${read})`);
      const expected = expectedLatest(rows, Timestamp.fromMillis(Date.now()));
      const beforeLate = expectedLatest(rows.filter((x) => x.tag !== 'late-outside'), Timestamp.fromMillis(Date.now()));
      assert.equal(expected.get('u6')!.tag, 'late-inside');
      await assertOnline(dir, targetName, beforeLate, users);
      const full = cli('sync', '--select', 'user_stats', '--full-refresh');
      assert.equal(full.code, 0, full.stderr);
      assert.match(full.stderr, /user_stats: 41 entities read, 41 written, 0 unchanged \(full\)/);
      await assertOnline(dir, targetName, expected, users);
    });

    test('freshness: OK within the TTL, exit 1 when a view is past it; a changed view is pushed again in full', async () => {
      const r = cli('freshness');
      assert.equal(r.code, 1);
      assert.match(r.stdout, /^user_stats\s+\S+Z\s+\S+Z\s+\S+\s+ttl 30\.0d\s+OK$/m);
      assert.match(r.stdout, /^stale_view\s+\S+Z\s+none\s+-\s+ttl 1\.0h\s+NO_DATA$/m);
      assert.doesNotMatch(r.stdout, /audit/);
      assert.match(r.stderr, /1 stale \(past error_after, or an online view past its TTL\): stale_view/);
      const ok = cli('freshness', '--select', 'user_stats', '--json');
      assert.equal(ok.code, 0, ok.stderr);
      const line = JSON.parse(ok.stdout);
      assert.equal(line.status, 'OK');
      assert.equal(line.lag_seconds, 0);

      writeFileSync(join(dir, 'models', 'user_stats.sql'), USER_STATS.replace('[n, n + 1] as pair', '[n, n + 1] as pair, amount * 2 as double_amount'));
      assert.equal(cli('run', '--select', 'user_stats').code, 0);
      const again = cli('sync', '--select', 'user_stats');
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stderr, /NOTE user_stats: its columns, types or TTL changed since the last sync; pushing it again from scratch/);
      const j = JSON.parse(cli('get', '--service', 'svc', '--key', 'user_id=u3', '--json').stdout);
      assert.deepEqual(j.features.find((f: { name: string }) => f.name === 'user_stats.double_amount').value, 66);
      writeFileSync(join(dir, 'models', 'user_stats.sql'), USER_STATS);
      assert.equal(cli('run', '--select', 'user_stats').code, 0);
      assert.equal(cli('sync', '--select', 'user_stats').code, 0);
    });
  });
}

