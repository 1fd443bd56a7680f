/**
 * Feature logging (SPEC section 12) end to end on the example project (DuckDB, SQLite store):
 * every served vector of a sample-rate-1 service logged and loaded once with the values served
 * (Tecton single and batch, Feast); a full queue counted in /metrics; sample rate 0.1 within
 * binomial bounds; a torn last line ignored; `fsql logs load` killed at random points and re-run
 * loading each entry exactly once; `fsql serve` SIGKILLed losing only what was not yet flushed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openOnlineStore } from '../src/online/open.js';
import type { OnlineStore } from '../src/online/store.js';
import type { ServedRow } from '../src/online/vector.js';
import { loadProject } from '../src/project/load.js';
import type { Project } from '../src/project/types.js';
import { seededRandom } from '../src/seeded-random.js';
import type { LogEntry } from '../src/feature-log/segment.js';
import type { FlushTimer } from '../src/serving/feature-log.js';
import { Timestamp } from '../src/values.js';
import { openWarehouse } from '../src/warehouse/index.js';
import { FSQL_BIN, fsql } from './helpers/project.js';
import { newestEntity, rawRequest, recentEntities, recentExample, startServer, type TestServer } from './helpers/serve.js';

const GET = '/api/v1/feature-service/get-features';
const BATCH = '/api/v1/feature-service/get-features-batch';
const SERVICE = 'logged_fraud';

let dir: string;
let project: Project;
let store: OnlineStore;

const cli = (...args: string[]) => fsql(['--project-dir', dir, ...args], { cwd: dir });

/** A flush timer the test triggers. */
function manualTimer(): FlushTimer & { tick(): void } {
  let fn: (() => void) | undefined;
  return { start: (f) => (fn = f), stop: () => (fn = undefined), tick: () => fn?.() };
}

async function loggedRows(sql: string): Promise<Record<string, unknown>[]> {
  const wh = await openWarehouse(project);
  try {
    return await wh.query(sql);
  } finally {
    await wh.close();
  }
}

/** The entries (rows) of the complete lines under a log folder (headers left out). */
function entryLines(logDir: string): { id: string; row: number }[] {
  const out: { id: string; row: number }[] = [];
  const folder = join(logDir, SERVICE);
  if (!existsSync(folder)) return out;
  for (const f of readdirSync(folder)) {
    const text = readFileSync(join(folder, f), 'utf8');
    const lines = text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter(Boolean).slice(1);
    for (const l of lines) {
      const { id, row, n } = JSON.parse(l) as LogEntry;
      for (let i = 0; i < (n ?? 1); i++) out.push({ id, row: (row ?? 0) + i });
    }
  }
  return out;
}

before(async () => {
  dir = recentExample();
  appendFileSync(join(dir, 'models', 'features.yml'), `  - name: ${SERVICE}\n    features:\n      - user_transaction_stats: [txn_count_7d, spend_7d]\n      - merchant_risk\n    logging: {sample_rate: 1}\n  - name: sampled_fraud\n    features:\n      - merchant_risk: [risk_score]\n    logging:\n      sample_rate: 0.1\n`);
  for (const args of [['run'], ['sync']]) {
    const r = cli(...args);
    assert.equal(r.code, 0, r.stderr);
  }
  project = loadProject({ projectDir: dir });
  store = await openOnlineStore(project);
});

after(async () => {
  await store?.close();
});

test('a bad logging block is an error naming the file and line', () => {
  const bad = recentExample();
  appendFileSync(join(bad, 'models', 'features.yml'), '  - name: broken\n    features: [merchant_risk]\n    logging: {sample_rate: 2}\n');
  const r = fsql(['--project-dir', bad, 'ls'], { cwd: bad });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /models\/features\.yml:\d+/);
  assert.match(r.stderr, /sample_rate of feature service 'broken' must be a number from 0 to 1/);
});

test('sample rate 1: every vector served (single, batch, Feast) is loaded once with the values served', async () => {
  const logDir = mkdtempSync(join(tmpdir(), 'fsql-log-'));
  const timer = manualTimer();
  const srv: TestServer = await startServer(project, store, { featureLog: { dir: logDir, timer } });
  const entities = recentEntities(dir, 12);
  const answers = new Map<string, unknown[]>();
  const key = (e: { user_id: string; merchant_id: string }) => `${e.user_id}|${e.merchant_id}`;
  let vectors = 0;
  try {
    for (const [i, e] of entities.entries()) {
      const r = await srv.post(GET, { params: { feature_service_name: SERVICE, join_key_map: e } });
      assert.equal(r.status, 200, r.text);
      answers.set(key(e), r.json.result.features);
      vectors++;
      if (i === 5) timer.tick(); // a flush in the middle: entries land in more than one write
    }
    const batch = await srv.post(BATCH, { params: { feature_service_name: SERVICE, request_data: entities.slice(0, 4).map((e) => ({ join_key_map: e })) } });
    assert.equal(batch.status, 200, batch.text);
    vectors += 4;
    const feast = await srv.post('/get-online-features', { feature_service: SERVICE, entities: { user_id: entities.slice(0, 3).map((e) => e.user_id), merchant_id: entities.slice(0, 3).map((e) => e.merchant_id) } });
    assert.equal(feast.status, 200, feast.text);
    vectors += 3;
    // a list of view:feature references belongs to no service: not logged
    assert.equal((await srv.post('/get-online-features', { features: ['merchant_risk:risk_score'], entities: { merchant_id: [entities[0].merchant_id] } })).status, 200);
  } finally {
    await srv.close(); // a clean stop writes what is queued
  }
  assert.equal(entryLines(logDir).length, vectors);

  const load = cli('logs', 'load', '--log-dir', logDir);
  assert.equal(load.code, 0, load.stderr);
  assert.match(load.stderr, new RegExp(`${vectors} entries`));
  const rows = await loggedRows(`select * from main.fsql_logged_${SERVICE} order by request_time, request_id, request_row`);
  assert.equal(rows.length, vectors);
  const singles = rows.filter((r) => answers.has(`${r.user_id}|${r.merchant_id}`) && r.request_row === 0n);
  assert.ok(singles.length >= entities.length);
  for (const r of rows.slice(0, entities.length)) {
    const answer = answers.get(`${r.user_id}|${r.merchant_id}`)!;
    // the service's features in response order: merchant_risk.* (4), then the two user features
    const logged = ['merchant_risk__chargeback_rate', 'merchant_risk__risk_score', 'merchant_risk__txn_count_30d', 'merchant_risk__volume_30d', 'user_transaction_stats__spend_7d', 'user_transaction_stats__txn_count_7d'].map((c) => r[c]);
    assert.deepEqual(logged.map((v) => (typeof v === 'bigint' ? String(v) : v)), answer);
    assert.equal(r.merchant_risk__serving_status, 'PRESENT');
    assert.ok(r.user_transaction_stats__effective_time instanceof Timestamp);
  }
  assert.equal(new Set(rows.map((r) => `${r.request_id}/${r.request_row}`)).size, vectors);

  // training on the logged requests: the values served, and the same requests recomputed point in time
  const served = join(dir, 'served.csv');
  const recomputed = join(dir, 'recomputed.csv');
  const t1 = cli('train', '--service', SERVICE, '--events', `logged:${SERVICE}`, '--served', '--out', served);
  assert.equal(t1.code, 0, t1.stderr);
  const t2 = cli('train', '--service', SERVICE, '--events', `logged:${SERVICE}`, '--out', recomputed);
  assert.equal(t2.code, 0, t2.stderr);
  const byRequest = (file: string) => {
    const [header, ...lines] = readFileSync(file, 'utf8').trim().split('\n');
    const cols = header.split(',');
    const features = cols.filter((c) => c.includes('__')).sort();
    return { features, rows: new Map(lines.map((l) => l.split(',')).map((v) => [`${v[cols.indexOf('request_id')]}/${v[cols.indexOf('request_row')]}`, features.map((f) => v[cols.indexOf(f)])])) };
  };
  const a = byRequest(served);
  const b = byRequest(recomputed);
  assert.deepEqual(a.features, b.features);
  assert.equal(a.rows.size, vectors);
  assert.deepEqual(a.rows, b.rows);
  const window = cli('train', '--service', SERVICE, '--events', `logged:${SERVICE}`, '--served', '--start', '2000-01-01', '--end', '2000-01-02', '--out', join(dir, 'none.csv'));
  assert.equal(window.code, 0, window.stderr);
  assert.match(window.stderr, /Wrote 0 rows/);

  // the skew check on what was served: none, then one tampered value found
  const clean = cli('skew-check', '--logged', SERVICE);
  assert.equal(clean.code, 0, clean.stderr);
  assert.match(clean.stderr, new RegExp(`${vectors} logged requests x 6 features, 0 difference`));
  const [victim] = await loggedRows(`select request_id, request_row from main.fsql_logged_${SERVICE} order by request_id limit 1`);
  await loggedRows(`update main.fsql_logged_${SERVICE} set merchant_risk__risk_score = -1 where request_id = '${victim.request_id}' and request_row = ${victim.request_row}`);
  const skewed = cli('skew-check', '--logged', SERVICE);
  assert.equal(skewed.code, 1, skewed.stderr);
  assert.match(skewed.stdout, new RegExp(`DIFF request ${victim.request_id} row ${victim.request_row}  merchant_risk__risk_score: served -1; training `));
  assert.equal(skewed.stdout.trim().split('\n').length, 1);

  const again = cli('logs', 'load', '--log-dir', logDir);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /: 0 entries/);
  assert.equal((await loggedRows(`select count(*) as n from main.fsql_logged_${SERVICE}`))[0].n, BigInt(vectors));
});

test('a full queue drops vectors and counts them in /metrics; the flush writes the rest', async () => {
  const logDir = mkdtempSync(join(tmpdir(), 'fsql-log-'));
  const timer = manualTimer();
  const srv = await startServer(project, store, { featureLog: { dir: logDir, timer, maxQueue: 5 } });
  try {
    const e = newestEntity(dir);
    for (let i = 0; i < 8; i++) assert.equal((await srv.post(GET, { params: { feature_service_name: SERVICE, join_key_map: e } })).status, 200);
    timer.tick();
    await srv.server.state.featureLog!.flush();
    const metrics = (await srv.get('/metrics')).text;
    assert.match(metrics, new RegExp(`fsql_feature_log_entries_total\\{service="${SERVICE}",outcome="queue_full"\\} 3\\n`));
    assert.match(metrics, new RegExp(`fsql_feature_log_entries_total\\{service="${SERVICE}",outcome="written"\\} 5\\n`));
  } finally {
    await srv.close();
  }
  assert.equal(entryLines(logDir).length, 5);
});

test('a log that cannot be written is counted as write_failed and the server keeps answering', async () => {
  const blocked = join(mkdtempSync(join(tmpdir(), 'fsql-log-')), 'not-a-folder');
  writeFileSync(blocked, 'a file where the log folder should be');
  const timer = manualTimer();
  const srv = await startServer(project, store, { featureLog: { dir: blocked, timer } });
  try {
    const e = newestEntity(dir);
    for (let i = 0; i < 3; i++) assert.equal((await srv.post(GET, { params: { feature_service_name: SERVICE, join_key_map: e } })).status, 200);
    await srv.server.state.featureLog!.flush();
    assert.match((await srv.get('/metrics')).text, new RegExp(`fsql_feature_log_entries_total\\{service="${SERVICE}",outcome="write_failed"\\} 3\\n`));
    assert.ok(srv.logs.some((l) => l.includes(`feature log of service '${SERVICE}': 3 entries could not be written`)));
    assert.equal((await srv.post(GET, { params: { feature_service_name: SERVICE, join_key_map: e } })).status, 200);
  } finally {
    await srv.close();
  }
});

test('sample rate 0.1 over 20,000 requests logs a count within binomial bounds', async () => {
  const logDir = mkdtempSync(join(tmpdir(), 'fsql-log-'));
  const srv = await startServer(project, store, { featureLog: { dir: logDir, timer: manualTimer(), random: seededRandom(16), maxQueue: 1_000_000 } });
  const fl = srv.server.state.featureLog!;
  const plan = srv.server.catalog.services.get('sampled_fraud')!.plan!;
  const now = Timestamp.fromMillis(Date.now());
  const missing: ServedRow[] = [{ reason: 'not_found' }];
  for (let i = 0; i < 20_000; i++) fl.record(plan, now, [[`m_${i}`]], [[]], [missing]);
  await srv.close();
  const n = readdirSync(join(logDir, 'sampled_fraud')).map((f) => readFileSync(join(logDir, 'sampled_fraud', f), 'utf8').split('\n').filter(Boolean).length - 1).reduce((a, b) => a + b, 0);
  // mean 2000, standard deviation sqrt(20000 * 0.1 * 0.9) = 42.4: 4.5 sigma either side
  assert.ok(n > 2000 - 191 && n < 2000 + 191, `${n} logged of 20000 at rate 0.1`);
});

/** A log folder of `count` entries of SERVICE, written by the server's own code path. */
async function writeLog(count: number, segmentBytes?: number): Promise<string> {
  const logDir = mkdtempSync(join(tmpdir(), 'fsql-log-'));
  const srv = await startServer(project, store, { featureLog: { dir: logDir, timer: manualTimer(), maxQueue: 10_000_000, segmentBytes } });
  const fl = srv.server.state.featureLog!;
  const plan = srv.server.catalog.services.get(SERVICE)!.plan!;
  const e = newestEntity(dir);
  const read = await srv.server.state.reader.read('test', plan, [[e.user_id, e.merchant_id]], Timestamp.fromMillis(Date.now()));
  for (let i = 0; i < count; i++) {
    fl.record(plan, Timestamp.fromMillis(Date.now() - i), [[e.user_id, e.merchant_id]], [[]], read.rows);
    if (i % 5000 === 4999) await fl.flush();
  }
  await srv.close();
  return logDir;
}

test('a torn last line (a write cut by a crash) is not loaded, and the lines before it are', async () => {
  const logDir = await writeLog(10);
  const folder = join(logDir, SERVICE);
  const [segment] = readdirSync(folder);
  appendFileSync(join(folder, segment), '{"id":"torn","t":17000');
  const r = cli('logs', 'load', '--log-dir', logDir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /10 entries from 1 segment/);
});

test('fsql logs load killed at random points, then run again, loads each entry exactly once', async () => {
  const total = 30_000;
  const logDir = await writeLog(total, 256 * 1024);
  const random = seededRandom(7);
  const table = `main.fsql_logged_${SERVICE}`;
  await loggedRows(`drop table if exists ${table}`);
  await loggedRows('drop table if exists main.fsql_logged_segments');
  let kills = 0;
  for (let attempt = 0; attempt < 6; attempt++) {
    // with --debug the load reports each statement as it finishes: kill after a random one of them
    const child = spawn(process.execPath, [FSQL_BIN, '--project-dir', dir, '--debug', 'logs', 'load', '--log-dir', logDir, '--batch-entries', '2000'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    const killAfter = 1 + Math.floor(random() * 6);
    let statements = 0;
    child.stderr!.on('data', (c: Buffer) => {
      statements += String(c).split('debug: SQL').length - 1;
      if (statements >= killAfter && child.exitCode === null && !child.killed) {
        child.kill('SIGKILL');
        kills++;
      }
    });
    await new Promise((resolve) => child.on('exit', resolve));
  }
  const r = cli('logs', 'load', '--log-dir', logDir);
  assert.equal(r.code, 0, r.stderr);
  const [{ n, distinct }] = await loggedRows(`select count(*) as n, count(distinct request_id || '/' || cast(request_row as varchar)) as distinct from ${table}`);
  assert.equal(n, BigInt(total));
  assert.equal(distinct, BigInt(total));
  assert.ok(kills >= 3, `only ${kills} loads were killed mid-way`);
});

test('fsql serve SIGKILLed: the log is intact, holds every entry written before the kill, nothing doubled', async () => {
  const logDir = mkdtempSync(join(tmpdir(), 'fsql-log-'));
  const child = spawn(process.execPath, [FSQL_BIN, '--project-dir', dir, 'serve', '--port', '0', '--log-dir', logDir], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (c) => {
      stderr += c;
      const m = /on (http:\/\/[^ ]+)/.exec(stderr);
      if (m) resolve(m[1]);
    });
    child.on('exit', () => reject(new Error(`serve exited: ${stderr}`)));
  });
  after(() => child.kill('SIGKILL'));
  const e = newestEntity(dir);
  const ask = () => rawRequest(url, 'POST', GET, JSON.stringify({ params: { feature_service_name: SERVICE, join_key_map: e } }), { 'content-type': 'application/json' });
  const first = 200;
  for (let i = 0; i < first; i++) assert.equal((await ask()).status, 200);
  // the server (its own process, on its own clock) writes at least every 500 ms: wait for the file to show the first requests, at most 10 s
  for (const deadline = Date.now() + 10_000; entryLines(logDir).length < first; await new Promise((r) => setTimeout(r, 20))) {
    assert.ok(Date.now() < deadline, `the log shows ${entryLines(logDir).length} of ${first} entries after 10 s`);
  }
  const more = 100;
  await Promise.all(Array.from({ length: more }, ask));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const r = cli('logs', 'load', '--log-dir', logDir);
  assert.equal(r.code, 0, r.stderr);
  const [{ n, distinct }] = await loggedRows(`select count(*) as n, count(distinct request_id) as distinct from main.fsql_logged_${SERVICE} where request_id like '%-${child.pid}-%'`);
  assert.ok((n as bigint) >= BigInt(first) && (n as bigint) <= BigInt(first + more), `${n} entries loaded of ${first} flushed and ${more} answered after`);
  assert.equal(distinct, n);
});

test("a request's rows past a line's size are written as several lines, and load as one request's rows in order", async () => {
  const logDir = mkdtempSync(join(tmpdir(), 'fsql-log-'));
  const srv = await startServer(project, store, { featureLog: { dir: logDir, timer: manualTimer(), lineChars: 100 } });
  const entities = recentEntities(dir, 5);
  try {
    const batch = await srv.post(BATCH, { params: { feature_service_name: SERVICE, request_data: entities.map((e) => ({ join_key_map: e })) } });
    assert.equal(batch.status, 200, batch.text);
  } finally {
    await srv.close();
  }
  const folder = join(logDir, SERVICE);
  const lines = readdirSync(folder).flatMap((f) => readFileSync(join(folder, f), 'utf8').trim().split('\n').slice(1));
  assert.ok(lines.length > 1, `one request in ${lines.length} lines`);
  const entries = entryLines(logDir);
  assert.deepEqual(entries.map((e) => e.row), [0, 1, 2, 3, 4]);
  assert.equal(new Set(entries.map((e) => e.id)).size, 1);
  const load = cli('logs', 'load', '--log-dir', logDir);
  assert.equal(load.code, 0, load.stderr);
  const rows = await loggedRows(`select request_row, user_id, merchant_id from main.fsql_logged_${SERVICE} where request_id = '${entries[0].id}' and request_time = (select max(request_time) from main.fsql_logged_${SERVICE} where request_id = '${entries[0].id}') order by request_row`); // an id is unique per server process; this file's servers share one
  assert.deepEqual(rows.map((r) => [r.request_row, r.user_id, r.merchant_id]), entities.map((e, i) => [BigInt(i), e.user_id, e.merchant_id]));
});
