/**
 * Raw events pushed into an aggregate view with `"to": "online_and_offline"` (SPEC section 12), on
 * the example project with recent data (DuckDB, SQLite store): served in the entity's windows at
 * once, and after `fsql run` in its training rows too, each event once however often it was
 * pushed or the view rebuilt.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openOnlineStore } from '../src/online/open.js';
import type { OnlineStore } from '../src/online/store.js';
import { loadProject } from '../src/project/load.js';
import { Timestamp } from '../src/values.js';
import { fsql } from './helpers/project.js';
import { recentExample, startServer, type TestServer } from './helpers/serve.js';

let dir: string;
let store: OnlineStore;
let srv: TestServer;
const logDir = mkdtempSync(join(tmpdir(), 'fsql-push-agg-'));
const cli = (...args: string[]) => fsql(['--project-dir', dir, ...args], { cwd: dir });
/** the server's clock: just after the sync */
let now = 0;
// the sync dates its states a minute before it ran (offline/sync-aggregate.ts): events pushed since are the online state's
const at = (secondsAgo: number) => new Date(now - secondsAgo * 1000).toISOString();

before(async () => {
  dir = recentExample(undefined, { handWrittenWindows: false });
  for (const args of [['run'], ['sync']]) {
    const r = cli(...args);
    assert.equal(r.code, 0, r.stderr);
  }
  now = Date.now();
  const project = loadProject({ projectDir: dir });
  store = await openOnlineStore(project);
  srv = await startServer(project, store, { featureLog: { dir: logDir }, clock: () => Timestamp.fromMillis(now) });
});

after(async () => {
  await srv?.close();
  await store?.close();
});

/** The training row of user u_pushed at `now` (service fraud_detection). */
function trained(): Record<string, string> {
  writeFileSync(join(dir, 'pushed-events.csv'), `user_id,merchant_id,event_timestamp\nu_pushed,m_1,${new Date(now).toISOString()}\n`);
  const r = cli('train', '--service', 'fraud_detection', '--events', join(dir, 'pushed-events.csv'), '--out', join(dir, 'pushed-train.csv'));
  assert.equal(r.code, 0, r.stderr);
  const [head, row] = readFileSync(join(dir, 'pushed-train.csv'), 'utf8').trim().split('\n');
  const cells = row.split(',');
  return Object.fromEntries(head.split(',').map((h, i) => [h, cells[i]]));
}

test('events pushed online and offline into an aggregate view: served at once, trained after fsql run, each once', async () => {
  const push = (secondsAgo: number, amount: number) =>
    srv.post('/push', { feature_view: 'user_transaction_stats', to: 'online_and_offline', df: { user_id: ['u_pushed'], ts: [at(secondsAgo)], amount: [amount], is_large: [amount >= 500 ? 1 : 0] } });
  const first = await push(20, 100);
  assert.equal(first.status, 200, first.text);
  assert.deepEqual([first.json.accepted, first.json.offline], [1, 1]);
  assert.equal((await push(20, 100)).json.accepted, 1, 'the same event again: taken, and served once');
  assert.equal((await push(10, 600)).json.accepted, 1);

  const served = await srv.post('/get-online-features', { features: ['user_transaction_stats:txn_count_1h', 'user_transaction_stats:spend_1h', 'user_transaction_stats:large_txn_count_1d'], entities: { user_id: ['u_pushed'] } });
  assert.deepEqual(served.json.results.slice(1).map((r: { values: unknown[] }) => r.values[0]), [2, 700, 1]);

  assert.equal(trained().user_transaction_stats__txn_count_1h, '0', 'not offline before fsql run');
  for (let i = 0; i < 2; i++) {
    const run = cli('run', '--log-dir', logDir);
    assert.equal(run.code, 0, run.stderr);
    const row = trained();
    assert.deepEqual([row.user_transaction_stats__txn_count_1h, row.user_transaction_stats__spend_1h, row.user_transaction_stats__large_txn_count_1d], ['2', '700.0', '1'], `run ${i + 1}`);
  }
});
