/**
 * Rules every dialect keeps: compile checks SQL with the target's own parser (BigQuery-only SQL
 * compiles for BigQuery), durations render exactly to the microsecond (executed on DuckDB and
 * PostgreSQL), and no dialect inherits a literal or quoting rule it did not choose.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dialectFor } from '../src/dialects/index.js';
import { parseDuration } from '../src/duration.js';
import type { WarehouseType } from '../src/project/types.js';
import { Timestamp } from '../src/values.js';
import { DuckDbWarehouse } from '../src/warehouse/duckdb.js';
import type { Warehouse } from '../src/warehouse/warehouse.js';
import { withTestPostgres } from './helpers/postgres.js';
import { copyExample, fsql } from './helpers/project.js';

const ALL: WarehouseType[] = ['duckdb', 'bigquery', 'snowflake', 'postgres'];

test('compile --target <bigquery> accepts BigQuery-only SQL that DuckDB cannot parse', () => {
  const dir = copyExample();
  writeFileSync(
    join(dir, 'models', 'user', 'bq_only.sql'),
    `{{ config(entities=['user'], timestamp='event_ts') }}
select * except (txn_count_1h), cast(null as STRUCT<a INT64>) as extra
from {{ ref('user_transaction_stats') }}
`,
  );
  const prod = fsql(['--project-dir', dir, '--target', 'prod', 'compile']);
  assert.equal(prod.code, 0, prod.stderr);
  // --strict: BigQuery's own grammar (ZetaSQL) judges, not node-sql-parser, which rejects STRUCT<a INT64>
  const strict = fsql(['--project-dir', dir, '--target', 'prod', 'compile', '--strict']);
  assert.equal(strict.code, 0, strict.stderr);
  writeFileSync(join(dir, 'models', 'user', 'bq_broken.sql'), `{{ config(entities=['user'], timestamp='event_ts') }}\nselect user_id, event_ts,\n  count(*) over (partition user_id) as n\nfrom {{ ref('user_transaction_stats') }}\n`);
  const broken = fsql(['--project-dir', dir, '--target', 'prod', 'compile', '--strict']);
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /bq_broken\.sql:3: ZetaSQL \(BigQuery's grammar\) rejects the compiled SQL: Syntax error/);
  rmSync(join(dir, 'models', 'user', 'bq_broken.sql'));
  const dev = fsql(['--project-dir', dir, 'compile']);
  assert.equal(dev.code, 1, 'DuckDB rejects STRUCT<a INT64>, and its parser is authoritative for DuckDB');
  assert.match(dev.stderr, /bq_only\.sql:2: DuckDB's parser rejects/);
});

test('durations are whole microseconds and render exactly in every dialect', async () => {
  assert.equal(parseDuration('1.5s'), 1.5);
  assert.equal(parseDuration('0.000001s'), 0.000001);
  assert.equal(parseDuration('0.0000001s'), undefined, 'finer than a microsecond');
  assert.equal(parseDuration('500ms'), 0.5);
  assert.equal(parseDuration('15m'), 900, 'm is minutes, ms milliseconds');
  for (const name of ALL) {
    const sql = dialectFor(name).timeSub('x', 1.5);
    assert.match(sql, /1500000/, `${name}: ${sql}`);
    assert.doesNotMatch(sql, /1\.5/, `${name}: ${sql}`);
    assert.match(dialectFor(name).timeAdd('x', 7 * 86400), /\b7\b.*day|day.*\b7\b/, `${name} uses the largest whole unit`);
  }
  const check = async (wh: Warehouse) => {
    const d = wh.dialect;
    const t = d.timestampLiteral(Timestamp.parse('2024-01-01T00:00:01.5Z')!);
    const [row] = await wh.query(`select ${d.timeSub(t, 1.5)} as a, ${d.timeAdd(t, 0.000001)} as b, ${d.timeSub(t, 90061.25)} as c`);
    assert.deepEqual(
      [row.a, row.b, row.c].map((v) => (v as Timestamp).toISOString()),
      ['2024-01-01T00:00:00Z', '2024-01-01T00:00:01.500001Z', '2023-12-30T22:59:00.250Z'],
      d.name,
    );
  };
  const duck = await DuckDbWarehouse.open({ name: 't', type: 'duckdb', schema: 'main', threads: 1, settings: { path: ':memory:' }, onlineStore: { type: 'sqlite' }, serve: { auth: false }, profileFile: 'test' });
  await check(duck).finally(() => duck.close());
  await withTestPostgres(check);
});

test('string literals follow each warehouse: doubled quotes, backslashes where they escape', () => {
  const s = `it's a \\ path`;
  assert.equal(dialectFor('duckdb').stringLiteral(s), `'it''s a \\ path'`);
  assert.equal(dialectFor('postgres').stringLiteral(s), `'it''s a \\ path'`);
  assert.equal(dialectFor('snowflake').stringLiteral(s), `'it''s a \\\\ path'`);
  assert.equal(dialectFor('bigquery').stringLiteral(s), `'it\\'s a \\\\ path'`);
});

test("partition_by and cluster_by (dbt's keys): BigQuery's defaults and overrides, Snowflake clusters only when asked", () => {
  const dir = copyExample();
  const file = join(dir, 'models', 'merchant', 'merchant_risk.sql');
  const original = readFileSync(file, 'utf8');
  const withConfig = (extra: string) => writeFileSync(file, original.replace("tags=['fraud', 'merchant']", `tags=['fraud', 'merchant'], ${extra}`));
  const dryRun = (target: string) => fsql(['--project-dir', dir, '--target', target, 'run', '--dry-run', '--select', 'merchant_risk']);

  assert.match(dryRun('prod').stdout, /merchant_risk`\npartition by timestamp_trunc\(`feature_ts`, day\)\ncluster by `merchant_id` as\n/);
  assert.match(dryRun('sf').stdout, /"MERCHANT_RISK" as\n/, 'no clustering on Snowflake unless cluster_by is set');

  withConfig("partition_by={'field': 'feature_ts', 'data_type': 'timestamp', 'granularity': 'month'}, cluster_by=['merchant_id', 'feature_ts']");
  assert.match(dryRun('prod').stdout, /partition by timestamp_trunc\(`feature_ts`, month\)\ncluster by `merchant_id`, `feature_ts` as\n/);
  assert.match(dryRun('sf').stdout, /"MERCHANT_RISK" cluster by \("MERCHANT_ID", "FEATURE_TS"\) as\n/);

  withConfig("partition_by='none'");
  assert.match(dryRun('prod').stdout, /merchant_risk`\ncluster by `merchant_id` as\n/);

  withConfig("partition_by={'field': 'feature_ts', 'granularity': 'week'}");
  const bad = dryRun('prod');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /merchant_risk\.sql.*partition_by granularity must be one of hour, day, month, year, not 'week'/);
});

test('arrays read as lists of the values their items read as (PostgreSQL: int8, numeric, timestamps, 2-D)', () =>
  withTestPostgres(async (pg) => {
    const [row] = await pg.query(
      "select array[9007199254740993, null]::bigint[] as i, array[1.5]::float8[] as f, array[7]::numeric[] as n, array[timestamp '2024-01-01 00:00:00.123456']::timestamp[] as t, array[array[1, 2], array[3, 4]]::bigint[] as m, array['a,b', null]::text[] as s",
    );
    assert.deepEqual(row.i, [9007199254740993n, null], 'int8 items as exact bigints, as a bigint column reads');
    assert.deepEqual(row.f, [1.5]);
    assert.deepEqual(row.n, [7n]);
    assert.deepEqual((row.t as Timestamp[]).map((t) => t.toISOString()), ['2024-01-01T00:00:00.123456Z'], 'timestamps to the microsecond');
    assert.deepEqual(row.m, [[1n, 2n], [3n, 4n]]);
    assert.deepEqual(row.s, ['a,b', null]);
  }));
