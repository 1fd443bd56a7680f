/**
 * `fsql` itself (a child process) on a BigQuery target, against the fake BigQuery on loopback:
 * run sends exactly what `run --dry-run` prints, incremental ranges are exact to the
 * microsecond, `compile --validate` dry-runs every view, and failures reach the user as
 * actionable messages with exit code 1 and no secrets.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pkg from 'node-sql-parser';
import { Timestamp } from '../src/values.js';
import { bigQueryFixture, dryRunBlocks, exampleOnFake, fsqlAsync, PAIR, RISK, STATS, type BigQueryFixture } from './helpers/bigquery.js';

let fx: BigQueryFixture;
before(async () => {
  fx = await bigQueryFixture();
  fx.fake.table('acme-ml.features.user_transaction_stats', STATS);
  fx.fake.onQuery(/^create or replace table `acme-ml\.features\.merchant_risk`/, { creates: { table: 'acme-ml.features.merchant_risk', schema: RISK } });
  fx.fake.onQuery(/^create or replace table `acme-ml\.features\.user_merchant_pair`/, { creates: { table: 'acme-ml.features.user_merchant_pair', schema: PAIR } });
});
after(async () => {
  await fx.fake.close();
});

test('run sends exactly the statements run --dry-run prints: CREATE OR REPLACE TABLE for table views, one MERGE for the incremental view', async () => {
  const dir = exampleOnFake(fx);
  const dry = await fsqlAsync(['--project-dir', dir, 'run', '--dry-run', '--start', '2024-04-01']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.equal(fx.fake.requests.length, 0, '--dry-run connects to nothing');
  const blocks = dryRunBlocks(dry.stdout);
  assert.deepEqual([...blocks.entries()].map(([v, b]) => `${v}: ${b.kind}`), ['merchant_risk: table', 'user_merchant_pair: table', 'user_transaction_stats: incremental']);
  assert.match(blocks.get('user_transaction_stats')!.sql, /^merge into `acme-ml\.features\.user_transaction_stats` as fsql_t\n/);

  const run = await fsqlAsync(['--project-dir', dir, 'run', '--start', '2024-04-01']);
  assert.equal(run.code, 0, run.stderr);
  // beside the views, the state a clean run applied (offline/state.ts) and each view's feature statistics (offline/feature-stats.ts)
  const state = (q: string) => /fsql_state/.test(q);
  const stats = (q: string) => /fsql_feature_stats/.test(q);
  assert.deepEqual(fx.fake.queries().filter((q) => !state(q) && !stats(q)).sort(), [...blocks.values()].map((b) => b.sql).sort());
  assert.equal(fx.fake.queries().filter(state).length, 2);
  assert.deepEqual(fx.fake.queries().filter((q) => /^insert into `acme-ml\.features\.fsql_feature_stats`/.test(q)).map((q) => /cast\('(\w+)' as \w+\) as `view_name`/.exec(q)?.[1]).sort(), ['merchant_risk', 'user_merchant_pair', 'user_transaction_stats']);
  assert.equal(fx.fake.queries().filter((q) => /^create table if not exists `acme-ml\.features\.fsql_feature_stats`/.test(q)).length, 1, 'the statistics table is made sure of once per run, not once per view');

  const jobs = [...fx.fake.jobs.values()].filter((j) => j.configuration.labels?.fsql_view !== 'fsql_state' && !JSON.stringify(j.configuration).includes('fsql_feature_stats'));
  assert.deepEqual(jobs.map((j) => j.configuration.labels?.fsql_view).sort(), ['merchant_risk', 'user_merchant_pair', 'user_transaction_stats']);
  assert.ok(jobs.every((j) => j.configuration.labels?.fsql_project === 'fraud_features' && j.configuration.labels?.fsql_target === 'prod'));
  assert.equal(new Set(jobs.map((j) => j.configuration.labels?.fsql_invocation)).size, 1, 'one invocation label per command');

  const results = JSON.parse(readFileSync(join(dir, 'target', 'run_results.json'), 'utf8'));
  assert.deepEqual(results.results.map((r: { name: string; status: string }) => [r.name, r.status]), [
    ['merchant_risk', 'success'],
    ['user_merchant_pair', 'success'],
    ['user_transaction_stats', 'success'],
  ]);
  const risk = results.results.find((r: { name: string }) => r.name === 'merchant_risk');
  assert.deepEqual(risk.columns, [
    { name: 'merchant_id', type: 'string' },
    { name: 'feature_ts', type: 'timestamp' },
    { name: 'txn_count_30d', type: 'int64' },
    { name: 'volume_30d', type: 'float64' },
    { name: 'chargeback_rate', type: 'float64' },
    { name: 'risk_score', type: 'float64' },
  ]);
});

test('an incremental run without --start reads the newest loaded timestamp and MERGEs from it minus the lookback, to the microsecond', async () => {
  const newest = Timestamp.parse('2024-04-10T12:34:56.789012Z')!;
  fx.fake.onQuery(/^select max\(`event_ts`\) as newest from `acme-ml\.features\.user_transaction_stats`$/, { result: { schema: [{ name: 'newest', type: 'TIMESTAMP' }], rows: [[newest.micros]] } });
  const dir = exampleOnFake(fx);
  const before = fx.fake.queries().length;
  const run = await fsqlAsync(['--project-dir', dir, 'run', '--select', 'user_transaction_stats']);
  assert.equal(run.code, 0, run.stderr);
  const sent = fx.fake.queries().slice(before).filter((q) => !/fsql_state|fsql_feature_stats/.test(q));
  assert.equal(sent.length, 2);
  const ast = new pkg.Parser().astify(sent[0], { database: 'bigquery' });
  assert.equal((Array.isArray(ast) ? ast[0] : ast).type, 'select', 'the newest-timestamp query parses as BigQuery SQL');
  assert.match(sent[1], /^merge into `acme-ml\.features\.user_transaction_stats` as fsql_t\n/);
  // lookback 1d before the newest row; the template reads 7d more of history
  assert.match(sent[1], /\) where `event_ts` >= timestamp '2024-04-09 12:34:56\.789012\+00'\n\) as fsql_s\non false\n/);
  assert.match(sent[1], /when not matched by source and fsql_t\.`event_ts` >= timestamp '2024-04-09 12:34:56\.789012\+00' then delete\n/);
  assert.match(sent[1], /where ts >= timestamp '2024-04-02 12:34:56\.789012\+00'/);
});

test('compile --validate dry-runs every view, reports the bytes each would scan, and fails naming the view file', async () => {
  const bytes: Record<string, number> = { merchant_risk: 3 * 1024 * 1024, user_merchant_pair: 2048, user_transaction_stats: 5 * 1024 ** 3 };
  fx.fake.onQuery(/^with daily as/, { bytes: bytes.merchant_risk });
  fx.fake.onQuery(/as pair_txn_count_30d/, { bytes: bytes.user_merchant_pair });
  fx.fake.onQuery(/as large_txn_count_1d/, { bytes: bytes.user_transaction_stats });
  const dir = exampleOnFake(fx);
  const from = fx.fake.requests.length;
  const r = await fsqlAsync(['--project-dir', dir, 'compile', '--validate']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /OK {3}merchant_risk \(BigQuery dry run\): would scan 3\.0 MiB \(3145728 bytes\)/);
  assert.match(r.stderr, /OK {3}user_merchant_pair \(BigQuery dry run\): would scan 2\.0 KiB \(2048 bytes\)/);
  assert.match(r.stderr, /OK {3}user_transaction_stats \(BigQuery dry run\): would scan 5\.0 GiB \(5368709120 bytes\)/);
  assert.match(r.stderr, /Validated 3 views on prod \(bigquery\): PASS=3 ERROR=0; a full build would scan 5\.0 GiB \(5371856896 bytes\)/);
  const inserts = fx.fake.requests.slice(from).filter((q) => q.route === 'jobs.insert');
  assert.equal(inserts.length, 3);
  const compiled = readFileSync(join(dir, 'target', 'compiled', 'prod', 'models', 'merchant', 'merchant_risk.sql'), 'utf8');
  assert.ok(inserts.some((q) => (q.body as { configuration: { query: { query: string }; dryRun: boolean } }).configuration.query.query === compiled), 'the compiled SELECT is what is checked');
  assert.ok(inserts.every((q) => (q.body as { configuration: { dryRun: boolean } }).configuration.dryRun === true));

  fx.fake.onQuery(/as pair_txn_count_30d/, { error: { reason: 'invalidQuery', message: 'Unrecognized name: amount at [6:7]' } });
  const bad = await fsqlAsync(['--project-dir', dir, 'compile', '--validate']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /FAIL user_merchant_pair: models\/pair\/user_merchant_pair\.sql:14: BigQuery rejected the SQL: Unrecognized name: amount at \[6:7\]\.\n {2}line 6 of the statement: sum\(amount\) over/);
  assert.match(bad.stderr, /Validated 3 views on prod \(bigquery\): PASS=2 ERROR=1/);
});

test('failures reach the user with exit code 1 and what to do, and an inline key never shows', async () => {
  const missing = exampleOnFake(fx, { dataset: 'features_v2' });
  const r1 = await fsqlAsync(['--project-dir', missing, 'run']);
  assert.equal(r1.code, 1, r1.stderr);
  assert.match(r1.stderr, /error: dataset acme-ml:features_v2 does not exist in location US .*bq --location=US mk --dataset acme-ml:features_v2/);

  const email = 'old-key@acme-ml.iam.gserviceaccount.com';
  const key = fx.fake.serviceAccount(email);
  fx.fake.revokeKey(email);
  const inline = exampleOnFake(fx, { keyfile: undefined, method: 'service-account-json', keyfile_json: key });
  const r2 = await fsqlAsync(['--project-dir', inline, 'run']);
  assert.equal(r2.code, 1, r2.stderr);
  assert.match(r2.stderr, /error: Google rejected the credentials of old-key@acme-ml\.iam\.gserviceaccount\.com \(keyfile_json\): invalid_grant: Invalid JWT Signature/);
  const output = r2.stdout + r2.stderr;
  for (const line of key.private_key.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'))) assert.ok(!output.includes(line));
  assert.ok(!output.includes(key.private_key_id));

  // a view whose SQL BigQuery rejects fails alone; its dependents are skipped; the message names the file
  fx.fake.onQuery(/^create or replace table `acme-ml\.features\.merchant_risk`/, { error: { reason: 'invalidQuery', message: 'Function not found: timestamp_trunc_x at [4:5]' } }, 1);
  const dir = exampleOnFake(fx);
  const r3 = await fsqlAsync(['--project-dir', dir, 'run', '--select', 'merchant_risk']);
  assert.equal(r3.code, 1);
  assert.match(r3.stderr, /FAIL merchant_risk: models\/merchant\/merchant_risk\.sql:9: BigQuery rejected the SQL: Function not found: timestamp_trunc_x at \[4:5\]\./);
});
