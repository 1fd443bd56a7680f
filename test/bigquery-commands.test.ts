/**
 * `fsql train`, `sync`, `get` and `freshness` on a BigQuery target, unchanged, against the fake
 * BigQuery on loopback: the adapter under the commands other layers own.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Timestamp } from '../src/values.js';
import type { Field } from './fakes/bigquery-server.js';
import { bigQueryFixture, exampleOnFake, fsqlAsync, PAIR, RISK, STATS, type BigQueryFixture } from './helpers/bigquery.js';
import { REPO_ROOT } from './helpers/project.js';

let fx: BigQueryFixture;
before(async () => {
  fx = await bigQueryFixture();
});
after(async () => {
  await fx.fake.close();
});

test('train on BigQuery: the events file goes up as numbered parquet, the join streams into a csv, --out table: is one CREATE OR REPLACE TABLE', async () => {
  const events: Field[] = [
    { name: 'event_id', type: 'STRING' },
    { name: 'user_id', type: 'STRING' },
    { name: 'merchant_id', type: 'STRING' },
    { name: 'amount', type: 'FLOAT' },
    { name: 'event_timestamp', type: 'TIMESTAMP' },
    { name: 'label', type: 'INTEGER' },
    { name: '__fsql_row', type: 'INTEGER' },
  ];
  fx.fake.table('acme-ml.features.user_transaction_stats', STATS);
  fx.fake.table('acme-ml.features.merchant_risk', RISK);
  fx.fake.table('acme-ml.features.user_merchant_pair', PAIR);
  const uploads: Buffer[] = [];
  fx.fake.loadSchema = (load, data) => {
    uploads.push(data);
    return (load as { sourceFormat?: string }).sourceFormat === 'PARQUET' ? events : [];
  };
  const ts = (iso: string) => Timestamp.parse(iso)!.micros;
  fx.fake.onQuery(/^select min\(cast\(`event_timestamp` as TIMESTAMP\)\) as min_ts/, {
    result: { schema: [{ name: 'min_ts', type: 'TIMESTAMP' }, { name: 'max_ts', type: 'TIMESTAMP' }], rows: [[ts('2024-03-01T00:01:20Z'), ts('2024-04-09T23:59:59Z')]] },
  });
  fx.fake.onQuery(/^select count\(\*\) as n from `acme-ml\.features\.fsql_events_/, { result: { schema: [{ name: 'n', type: 'INTEGER' }], rows: [[2000n]] } });
  const prefixed = (view: string, fields: Field[]) => fields.map((f) => ({ ...f, name: `${view}__${f.name}` }));
  const features = [
    ...prefixed('user_transaction_stats', STATS.slice(2)),
    ...prefixed('merchant_risk', [RISK[5], RISK[4]]),
    ...prefixed('user_merchant_pair', PAIR.slice(3)),
  ];
  // the first event has every feature (INT64 beyond 2^53 included), the second none
  const values = features.map((f) => (f.type === 'INTEGER' ? 9007199254740993n : 0.25));
  fx.fake.onQuery(/^with fsql_events as/, {
    result: {
      schema: [...events.slice(0, 6), ...features],
      rows: [
        ['e_100000', 'u_1377', 'm_38', 33.12, ts('2024-03-01T00:01:20Z'), 0n, ...values],
        ['e_100020', 'u_1053', 'm_160', 11.48, ts('2024-03-01T00:43:36.000123Z'), 1n, ...features.map(() => null)],
      ],
    },
  });
  const dir = exampleOnFake(fx);
  const out = join(mkdtempSync(join(tmpdir(), 'fsql-train-')), 'training.csv');
  const from = fx.fake.requests.length;
  const r = await fsqlAsync(['--project-dir', dir, 'train', '--service', 'fraud_detection', '--events', join(REPO_ROOT, 'data', 'events.csv'), '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    readFileSync(out, 'utf8'),
    `event_id,user_id,merchant_id,amount,event_timestamp,label,${features.map((f) => f.name).join(',')}\n` +
      `e_100000,u_1377,m_38,33.12,2024-03-01 00:01:20,0,${values.join(',')}\n` +
      `e_100020,u_1053,m_160,11.48,2024-03-01 00:43:36.000123,1,${features.map(() => '').join(',')}\n`,
  );
  // the upload: parquet holding every event, numbered in file order
  const requests = fx.fake.requests.slice(from);
  assert.equal(requests.filter((q) => q.route === 'upload').length, 1);
  const parquet = join(mkdtempSync(join(tmpdir(), 'fsql-upload-')), 'events.parquet');
  writeFileSync(parquet, uploads.at(-1)!);
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  const read = await conn.runAndReadAll(`select count(*)::int, min(__fsql_row)::int, max(__fsql_row)::int, first(event_id order by __fsql_row) from read_parquet('${parquet}')`);
  assert.deepEqual(read.getRows()[0], [2000, 1, 2000, 'e_100000']);
  conn.closeSync();
  // the staged events are dropped at the end
  const sent = fx.fake.queries().slice(-4);
  assert.match(sent[3], /^drop table if exists `acme-ml\.features\.fsql_events_[0-9a-f]+`$/);

  const t = await fsqlAsync(['--project-dir', dir, 'train', '--service', 'fraud_detection', '--events', join(REPO_ROOT, 'data', 'events.csv'), '--out', 'table:training_set']);
  assert.equal(t.code, 0, t.stderr);
  const ctas = fx.fake.queries().find((q) => q.startsWith('create or replace table `acme-ml.features.training_set` as\nwith fsql_events as'));
  assert.ok(ctas, 'the training table is written by BigQuery itself');
  assert.ok(fx.fake.hasTable('acme-ml.features.training_set'));
});

test('sync, get and freshness work unchanged on BigQuery: latest rows streamed into the online store, INT64 exact', async () => {
  fx.fake.table('acme-ml.features.user_transaction_stats', STATS);
  fx.fake.table('acme-ml.features.merchant_risk', RISK);
  fx.fake.table('acme-ml.features.user_merchant_pair', PAIR);
  const hourAgo = BigInt(Date.now() - 3600_000) * 1000n + 123n;
  const row = (fields: Field[], keys: string[]) =>
    fields.map((f, i) => (i < keys.length ? keys[i] : f.type === 'TIMESTAMP' ? hourAgo : f.type === 'INTEGER' ? 9007199254740993n : 0.5));
  fx.fake.onQuery(/^select `user_id`, `event_ts`, `txn_count_1h`[\s\S]*from `acme-ml\.features\.user_transaction_stats`[\s\S]*qualify row_number\(\)/, {
    result: { schema: STATS, rows: [row(STATS, ['u_1']), row(STATS, ['u_2'])] },
  });
  fx.fake.onQuery(/^select `merchant_id`, `feature_ts`[\s\S]*from `acme-ml\.features\.merchant_risk`[\s\S]*qualify row_number\(\)/, { result: { schema: RISK, rows: [row(RISK, ['m_1'])] } });
  fx.fake.onQuery(/^select `user_id`, `merchant_id`, `event_ts`[\s\S]*from `acme-ml\.features\.user_merchant_pair`[\s\S]*qualify row_number\(\)/, { result: { schema: PAIR, rows: [row(PAIR, ['u_1', 'm_1'])] } });
  fx.fake.onQuery(/^select max\(`(event_ts|feature_ts|ts)`\) as newest from `acme-ml\.(features|raw)\.\w+`(?: where [\s\S]*)?$/, { result: { schema: [{ name: 'newest', type: 'TIMESTAMP' }], rows: [[hourAgo]] } });
  const dir = exampleOnFake(fx);

  const sync = await fsqlAsync(['--project-dir', dir, 'sync']);
  assert.equal(sync.code, 0, sync.stderr);
  const get = await fsqlAsync(['--project-dir', dir, 'get', '--service', 'fraud_detection', '--key', 'user_id=u_1', '--key', 'merchant_id=m_1', '--json']);
  assert.equal(get.code, 0, get.stderr);
  const text = get.stdout;
  assert.match(text, /"9007199254740993"/, 'an INT64 beyond 2^53 arrives exact in the online store');
  assert.doesNotMatch(text, /9007199254740992/);
  assert.match(text, new RegExp(new Timestamp(hourAgo).toISOString().replace(/[.]/g, '\\.')), 'feature time to the microsecond');

  const fresh = await fsqlAsync(['--project-dir', dir, 'freshness']);
  assert.equal(fresh.code, 0, fresh.stderr + fresh.stdout);
});
