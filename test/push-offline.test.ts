/**
 * `/push` with `"to"` (SPEC section 12) on the example project (DuckDB, SQLite store): only views
 * with `push: true` accept pushes; `offline` and `online_and_offline` rows reach the push log
 * before the answer, and `fsql run` merges them into the view's offline table exactly once (a
 * repeated push counts once, a second run adds nothing); after `fsql sync`, online and offline
 * agree.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openOnlineStore } from '../src/online/open.js';
import type { OnlineStore } from '../src/online/store.js';
import { loadProject } from '../src/project/load.js';
import type { Project } from '../src/project/types.js';
import { openWarehouse } from '../src/warehouse/index.js';
import { Timestamp } from '../src/values.js';
import { fsql } from './helpers/project.js';
import { recentExample, startServer, type TestServer } from './helpers/serve.js';

let dir: string;
let project: Project;
let store: OnlineStore;
let srv: TestServer;
const logDir = mkdtempSync(join(tmpdir(), 'fsql-push-'));
const cli = (...args: string[]) => fsql(['--project-dir', dir, ...args], { cwd: dir });
const hourAgo = new Date(Date.now() - 3600_000).toISOString();
const twoHoursAgo = new Date(Date.now() - 7200_000).toISOString();

const merchant = (id: string, ts: string, risk: number, to?: string) => ({
  feature_view: 'merchant_risk',
  df: { merchant_id: [id], feature_ts: [ts], txn_count_30d: ['40'], volume_30d: [1234.5], chargeback_rate: [0.25], risk_score: [risk] },
  ...(to ? { to } : {}),
});

async function offlineRows(ids: string[]): Promise<Record<string, unknown>[]> {
  const wh = await openWarehouse(project);
  try {
    return await wh.query(`select merchant_id, feature_ts, risk_score from main.merchant_risk where merchant_id in (${ids.map((i) => `'${i}'`).join(', ')}) order by merchant_id, feature_ts`);
  } finally {
    await wh.close();
  }
}

before(async () => {
  dir = recentExample();
  for (const args of [['run'], ['sync']]) {
    const r = cli(...args);
    assert.equal(r.code, 0, r.stderr);
  }
  project = loadProject({ projectDir: dir });
  store = await openOnlineStore(project);
  srv = await startServer(project, store, { featureLog: { dir: logDir } });
});

after(async () => {
  await srv?.close();
  await store?.close();
});

test('a view without push: true refuses pushes with 400/3; a bad "to" is named', async () => {
  const r = await srv.post('/push', { feature_view: 'user_merchant_pair', df: { user_id: ['u'], merchant_id: ['m'], event_ts: [hourAgo], pair_txn_count_30d: ['1'], pair_spend_30d: [1] } });
  assert.equal(r.status, 400, r.text);
  assert.equal(r.json.code, 3);
  assert.match(r.json.message, /does not accept pushes; add push: true to its feature_views entry/);
  const bad = await srv.post('/push', merchant('m_x', hourAgo, 1, 'warehouse'));
  assert.equal(bad.status, 400);
  assert.match(bad.json.message, /"online_and_offline"/);
});

test('pushed rows reach the offline table once through fsql run, and online and offline agree after sync', async () => {
  // online_and_offline twice (the same row), offline only once for another merchant
  const first = await srv.post('/push', merchant('m_both', hourAgo, 7.5, 'online_and_offline'));
  assert.equal(first.status, 200, first.text);
  assert.deepEqual([first.json.written, first.json.offline], [1, 1]);
  const repeat = await srv.post('/push', merchant('m_both', hourAgo, 7.5, 'online_and_offline'));
  assert.equal(repeat.status, 200, repeat.text);
  const offline = await srv.post('/push', merchant('m_off', twoHoursAgo, 3.25, 'offline'));
  assert.deepEqual([offline.status, offline.json.written, offline.json.offline], [200, 0, 1]);
  const get = () => srv.post('/get-online-features', { features: ['merchant_risk:risk_score'], entities: { merchant_id: ['m_both', 'm_off'] } });
  const before = await get();
  assert.deepEqual(before.json.results[1].values, [7.5, null]);

  assert.deepEqual(await offlineRows(['m_both', 'm_off']), []);
  const run = cli('run', '--log-dir', logDir);
  assert.equal(run.code, 0, run.stderr);
  const rows = await offlineRows(['m_both', 'm_off']);
  assert.deepEqual(rows.map((r) => [r.merchant_id, r.risk_score]), [['m_both', 7.5], ['m_off', 3.25]]);
  const again = cli('run', '--log-dir', logDir);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(await offlineRows(['m_both', 'm_off']), rows);

  const sync = cli('sync');
  assert.equal(sync.code, 0, sync.stderr);
  const after = await get();
  assert.deepEqual(after.json.results[1].values, [7.5, 3.25]);
  assert.deepEqual(after.json.results[1].event_timestamps, [hourAgo, twoHoursAgo].map((t) => Timestamp.parse(t)!.toISOString()));
});

test('a row pushed many times at one time holds its last push offline, as online (push ids sort in push order)', async () => {
  const pushes = 40; // more than 36: an unpadded base-36 counter sorted 'p10' before 'pz'
  for (let i = 0; i < pushes; i++) {
    const r = await srv.post('/push', merchant('m_many', hourAgo, i, 'online_and_offline'));
    assert.equal(r.status, 200, r.text);
  }
  const online = await srv.post('/get-online-features', { features: ['merchant_risk:risk_score'], entities: { merchant_id: ['m_many'] } });
  assert.deepEqual(online.json.results[1].values, [pushes - 1]);
  const run = cli('run', '--log-dir', logDir);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual((await offlineRows(['m_many'])).map((r) => r.risk_score), [pushes - 1]);
});
