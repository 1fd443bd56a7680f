/**
 * A Redis that stops answering never hangs fsql: a real redis-server stopped with SIGSTOP (and
 * resumed with SIGCONT), and a TCP socket that accepts and never answers. Serving answers 503/14
 * within the store timeout and recovers by itself; `fsql sync` exits 1.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { OnlineStoreError } from '../src/errors.js';
import { loadProject } from '../src/project/load.js';
import { openStore } from '../src/online/open.js';
import type { OnlineStore } from '../src/online/store.js';
import { Timestamp } from '../src/values.js';
import { copyExample } from './helpers/project.js';
import { startRedis, type RedisServer } from './helpers/redis.js';
import { EXAMPLE_LAYOUTS, fsqlAsync, startServer, type TestServer } from './helpers/serve.js';
import { appendEvents, makeEvents, syncProject, target } from './helpers/sync-project.js';
import { fsql } from './helpers/project.js';

const TIMEOUT_MS = 500;
const NS = { project: 'fraud_features', target: 'dev' };
const GET = '/api/v1/feature-service/get-features';
const REQUEST = { params: { feature_service_name: 'fraud_detection', join_key_map: { user_id: 'u_1', merchant_id: 'm_1' } } };

let redis: RedisServer;
/** accepts connections and never writes a byte */
let silent: Server;
let silentPort: number;
const silentSockets: Socket[] = [];

before(async () => {
  redis = await startRedis();
  silent = createServer((s) => silentSockets.push(s));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  silentPort = (silent.address() as { port: number }).port;
});

after(async () => {
  redis.process.kill('SIGCONT');
  await redis.stop();
  for (const s of silentSockets) s.destroy();
  await new Promise((resolve) => silent.close(resolve));
});

async function elapsed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

test('serving from a Redis stopped with SIGSTOP: 503/14 within the store timeout, /health 503, and recovery after SIGCONT', { timeout: 60_000 }, async () => {
  const store = await openStore({ type: 'redis', url: redis.url }, NS, { commandTimeoutMs: TIMEOUT_MS, connectTimeoutMs: TIMEOUT_MS });
  let srv: TestServer | undefined;
  try {
    for (const l of EXAMPLE_LAYOUTS) await store.putLayout(l);
    await store.write(EXAMPLE_LAYOUTS[0], [{ key: ['u_1'], ts: Timestamp.fromMillis(Date.now() - 60_000), values: { txn_count_1h: 7n } }]);
    srv = await startServer(loadProject({ projectDir: copyExample({ handWrittenWindows: true }) }), store);
    const ok = await srv.post(GET, REQUEST);
    assert.equal(ok.status, 200, ok.text);

    redis.process.kill('SIGSTOP');
    // several requests at once: they share the connection and all fail together
    const { ms, value: stopped } = await elapsed(() => Promise.all([srv!.post(GET, REQUEST), srv!.post(GET, REQUEST), srv!.get('/health')]));
    for (const r of stopped) {
      assert.equal(r.status, 503, r.text);
      assert.equal(r.json.code, 14);
      assert.match(r.json.message, /did not answer within 500 ms|ETIMEDOUT/);
    }
    assert.ok(ms < TIMEOUT_MS + 400, `answered after ${ms} ms`);
    // still stopped: a new connection is opened and times out the same way
    const again = await elapsed(() => srv!.post(GET, REQUEST));
    assert.equal(again.value.status, 503);
    assert.ok(again.ms < TIMEOUT_MS + 400, `answered after ${again.ms} ms`);

    redis.process.kill('SIGCONT');
    const back = await srv.post(GET, REQUEST);
    assert.equal(back.status, 200, back.text);
    assert.equal((await srv.get('/health')).status, 200);
  } finally {
    redis.process.kill('SIGCONT');
    await srv?.close();
    await store.close();
  }
});

test('a socket that accepts and never answers: every store call fails with OnlineStoreError within the timeout', { timeout: 60_000 }, async () => {
  const store: OnlineStore = await openStore({ type: 'redis', url: `redis://:secret-pw@127.0.0.1:${silentPort}` }, NS, { commandTimeoutMs: TIMEOUT_MS, connectTimeoutMs: TIMEOUT_MS });
  try {
    const calls: [string, () => Promise<unknown>][] = [
      ['ping', () => store.ping()],
      ['getLayouts', () => store.getLayouts()],
      ['read', () => store.read([{ layout: EXAMPLE_LAYOUTS[0], key: ['u_1'] }])],
      ['write', () => store.write(EXAMPLE_LAYOUTS[0], [{ key: ['u_1'], ts: Timestamp.fromMillis(Date.now()), values: {} }])],
    ];
    for (const [name, call] of calls) {
      const t0 = performance.now();
      await assert.rejects(call, (e: Error) => e instanceof OnlineStoreError && /ETIMEDOUT/.test(e.message) && !e.message.includes('secret-pw'), name);
      const ms = performance.now() - t0;
      assert.ok(ms >= TIMEOUT_MS - 50 && ms < TIMEOUT_MS + 400, `${name} failed after ${ms} ms`);
    }
  } finally {
    await store.close();
  }
});

test('fsql sync to a stopped Redis or a silent socket exits 1 instead of hanging; fsql serve does not start', { timeout: 60_000 }, async () => {
  const dir = syncProject(
    target('stopped', `{type: redis, url: "${redis.url}/2?socket_timeout=0.5&socket_connect_timeout=0.5"}`) +
      target('silent', `{type: redis, url: "redis://127.0.0.1:${silentPort}?socket_timeout=0.5&socket_connect_timeout=0.5"}`),
  );
  appendEvents(dir, makeEvents(5, 2, -3600, -60));
  assert.equal(fsql(['--project-dir', dir, 'run'], { cwd: dir }).code, 0);
  redis.process.kill('SIGSTOP');
  try {
    for (const t of ['stopped', 'silent']) {
      const sync = await fsqlAsync(['--project-dir', dir, '--target', t, 'sync'], { cwd: dir });
      assert.equal(sync.code, 1, `${t}: ${sync.stderr}`);
      assert.match(sync.stderr, /cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+.*did not answer within 500 ms|connect ETIMEDOUT/);
    }
    const serve = await fsqlAsync(['--project-dir', dir, '--target', 'silent', 'serve', '--port', '0', '--store-timeout', '0.5'], { cwd: dir });
    assert.equal(serve.code, 1, serve.stderr);
    assert.match(serve.stderr, /cannot reach Redis/);
  } finally {
    redis.process.kill('SIGCONT');
  }
});
