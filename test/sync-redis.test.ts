/**
 * `fsql sync`, `fsql get` and `fsql freshness` on a redis-server started here (the shared
 * scenario), and failures: unreachable, a refused password, Redis out of memory mid-sync. Each
 * exits 1 naming the URL without its password, and leaves the watermark where it was.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { Timestamp } from '../src/values.js';
import { fsql } from './helpers/project.js';
import { freePort, startRedis, type RedisServer } from './helpers/redis.js';
import { appendEvents, expectedLatest, makeEvents, syncProject, target } from './helpers/sync-project.js';
import { assertOnline, defineSyncScenario, withStore } from './helpers/sync-scenario.js';

let redis: RedisServer;
let downPort: number;

before(async () => {
  redis = await startRedis();
  downPort = await freePort();
});

after(async () => {
  await redis?.stop();
});

defineSyncScenario('redis', () => `${redis.url}/1`);

test('an unreachable Redis or refused password: exit 1, the URL named without its password, nothing written', async () => {
  const locked = await startRedis(['--requirepass', 'correct-horse']);
  try {
    const dir = syncProject(
      target('down', `{type: redis, url: "redis://:pw-down-123@127.0.0.1:${downPort}"}`) + target('wrongpw', `{type: redis, url: "redis://:pw-wrong-456@127.0.0.1:${locked.port}"}`),
    );
    appendEvents(dir, makeEvents(5, 2, -3600, -60));
    assert.equal(fsql(['--project-dir', dir, 'run'], { cwd: dir }).code, 0);
    const down = fsql(['--project-dir', dir, '--target', 'down', 'sync'], { cwd: dir });
    assert.equal(down.code, 1);
    assert.match(down.stderr, new RegExp(`cannot reach Redis at redis://:\\*\\*\\*\\*@127\\.0\\.0\\.1:${downPort}`));
    assert.doesNotMatch(down.stderr + down.stdout, /pw-down-123/);
    const wrong = fsql(['--project-dir', dir, '--target', 'wrongpw', 'sync'], { cwd: dir });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /refused the credentials/);
    assert.doesNotMatch(wrong.stderr + wrong.stdout, /pw-wrong-456/);
    const client = new Redis(locked.port, '127.0.0.1', { password: 'correct-horse' });
    assert.equal(await client.dbsize(), 0);
    client.disconnect();
    const get = fsql(['--project-dir', dir, '--target', 'down', 'get', '--service', 'svc', '--key', 'user_id=u0'], { cwd: dir });
    assert.equal(get.code, 1);
    assert.doesNotMatch(get.stderr, /pw-down-123/);
  } finally {
    await locked.stop();
  }
});

test('Redis failing mid-sync (out of memory): exit 1, the watermark stays, and the next sync converges', async () => {
  const own = await startRedis();
  const client = new Redis(own.port, '127.0.0.1');
  try {
    const dir = syncProject(target('r', `{type: redis, url: "${own.url}"}`));
    const first = makeEvents(20, 2, -4 * 3600, -3 * 3600);
    appendEvents(dir, first);
    const cli = (...args: string[]) => fsql(['--project-dir', dir, '--target', 'r', ...args], { cwd: dir });
    assert.equal(cli('run').code, 0);
    assert.equal(cli('sync', '--select', 'user_stats').code, 0);
    const watermark = await withStore(dir, 'r', (s) => s.getWatermark('user_stats'));
    const more = makeEvents(4000, 1, -600, -60, 'big');
    appendEvents(dir, more);
    assert.equal(cli('run').code, 0);
    const used = Number(/used_memory:(\d+)/.exec(String(await client.info('memory')))![1]);
    await client.config('SET', 'maxmemory', String(used + 300_000));
    await client.config('SET', 'maxmemory-policy', 'noeviction');
    const failed = cli('sync', '--select', 'user_stats');
    assert.equal(failed.code, 1, failed.stderr);
    assert.match(failed.stderr, /FAIL user_stats: Redis at redis:\/\/127\.0\.0\.1:\d+: OOM/);
    assert.ok((await client.dbsize()) > 25, 'some rows were written before Redis ran out of memory');
    assert.equal((await withStore(dir, 'r', (s) => s.getWatermark('user_stats')))!.micros, watermark!.micros);
    await client.config('SET', 'maxmemory', '0');
    const ok = cli('sync', '--select', 'user_stats');
    assert.equal(ok.code, 0, ok.stderr);
    const all = [...first, ...more];
    await assertOnline(dir, 'r', expectedLatest(all, Timestamp.fromMillis(Date.now())), [...new Set(all.map((r) => r.user_id!))]);
  } finally {
    client.disconnect();
    await own.stop();
  }
});
