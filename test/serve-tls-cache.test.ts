/**
 * `fsql serve` over HTTPS with a certificate made here with openssl (in process, and the real
 * command with --tls-cert/--tls-key), and the hot-key cache of --cache-ttl/--cache-size on a real
 * SQLite store with an injected clock: hits within the TTL, misses after it and after eviction,
 * statuses still decided for each request's own time, hits and misses in /metrics.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Writable } from 'node:stream';
import { Logger } from '../src/log.js';
import type { OnlineStore } from '../src/online/store.js';
import { loadProject } from '../src/project/load.js';
import type { Project } from '../src/project/types.js';
import { FeatureServer } from '../src/serving/server.js';
import { Timestamp } from '../src/values.js';
import { makeCerts, type TestCerts } from './helpers/certs.js';
import { copyExample, FSQL_BIN } from './helpers/project.js';
import { EXAMPLE_LAYOUTS, rawRequest, startServer } from './helpers/serve.js';
import { freshStore } from './helpers/stores.js';

const GET = '/api/v1/feature-service/get-features';
const [USER, MERCHANT] = EXAMPLE_LAYOUTS;

let certs: TestCerts;
let project: Project;
let projectDir: string;
const stores: OnlineStore[] = [];

before(() => {
  certs = makeCerts();
  projectDir = copyExample({ handWrittenWindows: true });
  project = loadProject({ projectDir });
});

after(async () => {
  for (const s of stores) await s.close();
});

async function store(): Promise<OnlineStore> {
  const s = await freshStore('sqlite');
  stores.push(s);
  for (const l of EXAMPLE_LAYOUTS) await s.putLayout(l);
  return s;
}

/** A request over HTTPS: GET without a body; `agent` to keep one connection. */
function httpsGet(url: string, path: string, ca?: Buffer, opts: { agent?: HttpsAgent; body?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; text: string; port: number }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${url}${path}`, { ca, agent: opts.agent, method: opts.body === undefined ? 'GET' : 'POST', headers: opts.headers }, (res) => {
      let text = '';
      const port = res.socket.localPort ?? 0;
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, port }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

test('HTTPS in process: answers with the certificate, refuses plain HTTP and clients that do not trust it, hands a TLS connection to node:http', async () => {
  const server = await FeatureServer.create({
    project,
    store: await store(),
    log: new Logger('text', false, new Writable({ write: (_c, _e, cb) => cb() })),
    auth: false,
    tls: { cert: readFileSync(certs.serverCert), key: readFileSync(certs.serverKey) },
  });
  const { port } = await server.listen(0, '127.0.0.1');
  try {
    const ok = await httpsGet(`https://127.0.0.1:${port}`, '/health', readFileSync(certs.ca));
    assert.equal(ok.status, 200, ok.text);
    await assert.rejects(httpsGet(`https://127.0.0.1:${port}`, '/health'), /self.signed|unable to (get|verify)/i);
    const plain = await rawRequest(`http://127.0.0.1:${port}`, 'GET', '/health').catch((e: Error) => e);
    assert.ok(plain instanceof Error || plain.status === 400, 'plain HTTP is not answered as HTTP');
    // one TLS connection: a request on the server's own path, a chunked one node:http takes over, one more
    const agent = new HttpsAgent({ keepAlive: true, maxSockets: 1, ca: readFileSync(certs.ca) });
    const body = JSON.stringify({ params: { feature_service_name: 'fraud_detection', join_key_map: { user_id: 'u_1', merchant_id: 'm_1' } } });
    const post = (chunked: boolean) => httpsGet(`https://127.0.0.1:${port}`, GET, undefined, { agent, body, headers: chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(Buffer.byteLength(body)) } });
    const answers = [await post(false), await post(true), await post(false)];
    agent.destroy();
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 200], answers.map((a) => a.text).join('\n'));
    assert.equal(new Set(answers.map((a) => a.port)).size, 1, 'one connection');
    assert.equal(new Set(answers.map((a) => a.text)).size, 1, 'the same answer by both paths');
  } finally {
    await server.close();
  }
});

test('fsql serve --tls-cert --tls-key serves HTTPS; one without the other is refused', { timeout: 60_000 }, async () => {
  const child = spawn(process.execPath, [FSQL_BIN, '--project-dir', projectDir, 'serve', '--port', '0', '--tls-cert', certs.serverCert, '--tls-key', certs.serverKey, '--cache-ttl', '5s'], { cwd: projectDir, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let err = '';
      child.stderr.on('data', (c) => {
        err += c;
        const m = /^Serving .* on (https:\/\/\S+) \(auth off, cache 5s x 100000\)/m.exec(err);
        if (m) resolve(m[1]);
      });
      child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${err}`)));
    });
    assert.equal((await httpsGet(url, '/health', readFileSync(certs.ca))).status, 200);
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  const half = spawn(process.execPath, [FSQL_BIN, '--project-dir', projectDir, 'serve', '--port', '0', '--tls-cert', certs.serverCert], { cwd: projectDir, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  half.stderr.on('data', (c) => (err += c));
  assert.equal(await new Promise((r) => half.once('exit', r)), 1);
  assert.match(err, /--tls-key.*HTTPS needs both a certificate and its key/);
});

/** `fsql serve` for a target whose profile sets `serve:`; resolves to its stderr once it says where it serves, or when it exits. */
function serveTarget(target: string): { child: ReturnType<typeof spawn>; ready: Promise<{ url?: string; code?: number | null; err: string }> } {
  const child = spawn(process.execPath, [FSQL_BIN, '--project-dir', projectDir, '--target', target, 'serve'], { cwd: projectDir, stdio: ['ignore', 'pipe', 'pipe'] });
  const ready = new Promise<{ url?: string; code?: number | null; err: string }>((resolve) => {
    let err = '';
    child.stderr!.on('data', (c) => {
      err += c;
      const m = /^Serving .* on (https?:\/\/\S+) /m.exec(err);
      if (m) resolve({ url: m[1], err });
    });
    child.on('exit', (code) => resolve({ code, err }));
  });
  return { child, ready };
}

test('serve: in the profile sets TLS, the cache, the store timeout and the access log; a bad value names the profile key', { timeout: 60_000 }, async () => {
  const profiles = `${projectDir}/profiles.yml`;
  const base = readFileSync(profiles, 'utf8');
  const output = (serve: string) => `    ${serve.split(':')[0]}:\n      type: duckdb\n      path: target/dev.duckdb\n      schema: main\n      online_store: {type: sqlite, path: target/online.sqlite}\n      serve: {port: 0, ${serve.slice(serve.indexOf(':') + 1)}}\n`;
  writeFileSync(profiles, base.replace('  outputs:\n', `  outputs:\n${output(`secure: tls_cert: ${certs.serverCert}, tls_key: ${certs.serverKey}, cache_ttl: 5s, cache_size: 10, store_timeout: 2s, access_log: target/access.log`)}${output('badttl: cache_ttl: soon')}${output('halftls: tls_cert: server.pem')}`));
  try {
    const { child, ready } = serveTarget('secure');
    try {
      const { url, err } = await ready;
      assert.ok(url?.startsWith('https://'), err);
      assert.match(err, /\(auth off, cache 5s x 10\)/);
      assert.equal((await httpsGet(url!, '/health', readFileSync(certs.ca))).status, 200);
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    assert.match(readFileSync(`${projectDir}/target/access.log`, 'utf8'), /"path":"\/health"/);
    const bad = await serveTarget('badttl').ready;
    assert.equal(bad.code, 1);
    assert.match(bad.err, /profiles\.yml \(serve: cache_ttl of target 'badttl'\).*'soon' is not a duration/);
    const half = await serveTarget('halftls').ready;
    assert.equal(half.code, 1);
    assert.match(half.err, /serve: tls_key of target 'halftls'.*HTTPS needs both/);
  } finally {
    writeFileSync(profiles, base);
  }
});

test('the hot-key cache: hits within --cache-ttl, misses after it and after LRU eviction, statuses still for each request\'s time', async () => {
  const s = await store();
  const clock = { ms: Date.now() };
  const ttl = MERCHANT.ttlSeconds! * 1000;
  const srv = await startServer(project, s, { clock: () => Timestamp.fromMillis(clock.ms), cache: { ttlMs: 10_000, size: 2 } });
  const put = (merchant: string, tsMs: number, risk: number) => s.write(MERCHANT, [{ key: [merchant], ts: Timestamp.fromMillis(tsMs), values: { risk_score: risk } }]);
  const risk = async (merchant: string) => {
    const r = await srv.post(GET, { params: { feature_service_name: 'fraud_detection', join_key_map: { user_id: 'u', merchant_id: merchant }, metadata_options: { include_serving_status: true } } });
    assert.equal(r.status, 200, r.text);
    return [r.json.result.features[1], r.json.metadata.features[1].status];
  };
  const counts = async () => {
    const m = (await srv.get('/metrics')).text;
    const n = (result: string) => Number(new RegExp(`^fsql_cache_requests_total\\{result="${result}"\\} (\\d+)$`, 'm').exec(m)?.[1] ?? 0);
    return { hit: n('hit'), miss: n('miss') };
  };
  try {
    await put('m_1', clock.ms - ttl + 5_000, 1);
    assert.deepEqual(await risk('m_1'), [1, 'PRESENT']);
    await put('m_1', clock.ms - 1000, 2);
    assert.deepEqual(await risk('m_1'), [1, 'PRESENT'], 'a hit: what the store returned 0 s ago');
    clock.ms += 6_000;
    assert.deepEqual(await risk('m_1'), [null, 'MISSING_DATA'], 'a hit, but past the view\'s TTL at this request\'s time');
    clock.ms += 4_000;
    assert.deepEqual(await risk('m_1'), [2, 'PRESENT'], 'a miss once the entry is 10 s old');
    assert.deepEqual(await counts(), { hit: 2, miss: 2 });
    // size 2: m_2 and m_3 push m_1 out
    await put('m_2', clock.ms - 1000, 3);
    await put('m_3', clock.ms - 1000, 4);
    await risk('m_2');
    await risk('m_3');
    await put('m_1', clock.ms - 500, 5);
    assert.deepEqual(await risk('m_1'), [5, 'PRESENT'], 'evicted: read again');
    assert.deepEqual(await risk('m_3'), [4, 'PRESENT']);
    assert.deepEqual(await counts(), { hit: 3, miss: 5 });
    // the user view is cached with the merchant for the same join keys
    await s.write(USER, [{ key: ['u'], ts: Timestamp.fromMillis(clock.ms - 1000), values: { txn_count_1h: 9n } }]);
    assert.deepEqual(await risk('m_3'), [4, 'PRESENT']);
  } finally {
    await srv.close();
  }
});
