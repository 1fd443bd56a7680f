/** `fsql run`: tables, incremental re-runs and late rows, backfills, views, failure isolation. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { fsql, makeProject } from './helpers/project.js';
import { mini, MINI_CSV, MINI_VIEW } from './helpers/mini.js';

const INCREMENTAL = MINI_VIEW.replace("ttl='2d'", "ttl='2d', materialized='incremental', lookback='1d'").replace(
  "from {{ source('raw', 'payments') }}",
  "from {{ source('raw', 'payments') }}\n{% if is_incremental() %}where ts >= {{ incremental_start('1d') }}{% endif %}",
);

async function rows(dir: string, sql: string): Promise<unknown[][]> {
  const db = await DuckDBInstance.create(join(dir, 'target', 'dev.duckdb'), { access_mode: 'READ_ONLY' });
  const conn = await db.connect();
  try {
    const r = await conn.runAndReadAll(sql);
    return r.getRowsJS() as unknown[][];
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

function run(dir: string, ...args: string[]) {
  const r = fsql(['--project-dir', dir, 'run', ...args]);
  assert.equal(r.code, 0, r.stderr);
  return r;
}

const ALL = 'select user_id, strftime(event_ts, \'%Y-%m-%d %H:%M:%S\') as t, spend_1d::double from spend order by all';

test('a table view holds the rolling values computed by hand', async () => {
  const dir = makeProject(mini());
  run(dir);
  assert.deepEqual(await rows(dir, ALL), [
    ['u1', '2024-01-01 00:00:00', 10],
    ['u1', '2024-01-01 12:00:00', 30],
    ['u1', '2024-01-03 00:00:00', 40],
    ['u2', '2024-01-02 00:00:00', 5],
  ]);
});

test('incremental: a re-run gives the same rows; late rows within the lookback are picked up; equals a full refresh', async () => {
  const dir = makeProject(mini({ 'models/spend.sql': INCREMENTAL }));
  run(dir);
  const first = await rows(dir, ALL);
  const again = run(dir);
  assert.match(again.stderr, /spend incremental \[2024-01-02T00:00:00Z/);
  assert.deepEqual(await rows(dir, ALL), first);
  // a late row (inside the 1d lookback of the newest row, 2024-01-03) and a new row
  appendFileSync(join(dir, 'data', 'payments.csv'), 'u1,7,2024-01-02 18:00:00\nu2,1,2024-01-04 00:00:00\n');
  run(dir);
  const incremental = await rows(dir, ALL);
  assert.deepEqual(incremental, [
    ['u1', '2024-01-01 00:00:00', 10],
    ['u1', '2024-01-01 12:00:00', 30],
    ['u1', '2024-01-02 18:00:00', 7],
    ['u1', '2024-01-03 00:00:00', 47],
    ['u2', '2024-01-02 00:00:00', 5],
    ['u2', '2024-01-04 00:00:00', 1],
  ]);
  run(dir, '--full-refresh');
  assert.deepEqual(await rows(dir, ALL), incremental);
});

test('incremental: a row later than the lookback allows is not rebuilt until a backfill covers it', async () => {
  const dir = makeProject(mini({ 'models/spend.sql': INCREMENTAL }));
  run(dir);
  appendFileSync(join(dir, 'data', 'payments.csv'), 'u2,100,2024-01-01 06:00:00\n');
  run(dir);
  assert.deepEqual(await rows(dir, "select count(*) from spend where user_id = 'u2'"), [[1n]]);
  const r = run(dir, '--start', '2024-01-01', '--end', '2024-01-02');
  assert.match(r.stderr, /spend incremental \[2024-01-01T00:00:00Z \.\. 2024-01-02T00:00:00Z\)/);
  // the 01-02 row was already rebuilt by the lookback run (its window reaches back to 01-01 06:00)
  assert.deepEqual(await rows(dir, "select spend_1d::double from spend where user_id = 'u2' order by event_ts"), [[100], [105]]);
  const results = JSON.parse(readFileSync(join(dir, 'target', 'run_results.json'), 'utf8'));
  assert.deepEqual(results.results[0].range, { start: '2024-01-01T00:00:00Z', end: '2024-01-02T00:00:00Z' });
});

test('a failed view keeps its previous table, its descendants are skipped, others build, exit 1', async () => {
  const child = MINI_VIEW.replace("{{ source('raw', 'payments') }}", "{{ ref('spend') }}")
    .replace('ts as event_ts', 'event_ts')
    .replace("'user_id', 'ts'", "'user_id', 'event_ts'")
    .replace('sum(amount)', 'sum(spend_1d)')
    .replace('spend_1d\nfrom', 'spend_sum\nfrom');
  const other = MINI_VIEW.replace('spend_1d', 'other_1d');
  const dir = makeProject(mini({ 'models/child.sql': child, 'models/other.sql': other }));
  run(dir);
  const before = await rows(dir, ALL);
  writeFileSync(join(dir, 'models', 'spend.sql'), MINI_VIEW.replace('sum(amount)', 'sum(no_such_column)'));
  const r = fsql(['--project-dir', dir, 'run']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /FAIL spend: models\/spend\.sql:5: DuckDB cannot bind the SELECT: Referenced column "no_such_column"/);
  assert.match(r.stderr, /SKIP child \(upstream spend failed\)/);
  assert.match(r.stderr, /OK   other/);
  assert.match(r.stderr, /PASS=1 ERROR=1 SKIP=1 TOTAL=3/);
  assert.deepEqual(await rows(dir, ALL), before);
  const results = JSON.parse(readFileSync(join(dir, 'target', 'run_results.json'), 'utf8'));
  assert.deepEqual(Object.fromEntries(results.results.map((x: { name: string; status: string }) => [x.name, x.status])), { other: 'success', spend: 'error', child: 'skipped' });
});

test('materialized=view creates a view; --select and --exclude choose views', async () => {
  const asView = MINI_VIEW.replace("ttl='2d'", "ttl='2d', materialized='view'").replace(/spend_1d/g, 'v_1d');
  const dir = makeProject(mini({ 'models/v.sql': asView }));
  const r = run(dir, '--select', 'v');
  assert.match(r.stderr, /OK   v view/);
  assert.doesNotMatch(r.stderr, /OK   spend/);
  assert.deepEqual(await rows(dir, "select table_type from information_schema.tables where table_name = 'v'"), [['VIEW']]);
  const r2 = run(dir, '--exclude', 'v');
  assert.match(r2.stderr, /OK   spend table/);
  assert.doesNotMatch(r2.stderr, /OK   v/);
});

test('--dry-run prints the SQL and creates no database', () => {
  const dir = makeProject(mini({ 'models/spend.sql': INCREMENTAL }));
  const r = fsql(['--project-dir', dir, 'run', '--dry-run', '--start', '2024-01-02']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /-- spend: incremental\nbegin transaction;\ndelete from "main"\."spend" where "event_ts" >= timestamp '2024-01-02 00:00:00\.000000';/);
  assert.match(r.stdout, /where ts >= timestamp '2024-01-01 00:00:00\.000000'/);
  assert.throws(() => readFileSync(join(dir, 'target', 'dev.duckdb')));
});

test('fsql test reports duplicate (key, timestamp) rows and failing column tests with exit 1', () => {
  const dup = MINI_CSV + 'u2,5,2024-01-02 00:00:00\n';
  const yml = `sources:\n  - name: raw\n    tables:\n      - name: payments\n        path: data/payments.csv\nentities:\n  - name: user\n    join_keys: [user_id]\nfeature_views:\n  - name: spend\n    columns:\n      - name: spend_1d\n        tests: [{accepted_range: {max: 20}}]\n`;
  const dir = makeProject(mini({ 'data/payments.csv': dup, 'models/schema.yml': yml }));
  run(dir);
  const r = fsql(['--project-dir', dir, 'test']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /FAIL  unique_spend_keys_timestamp: 1 failing rows/);
  assert.match(r.stderr, /FAIL  accepted_range_spend_spend_1d: 2 failing rows/);
  assert.match(r.stderr, /PASS  not_null_spend_user_id/);
});

test('incremental: changed columns are refused until a full refresh, never written by position', async () => {
  const dir = makeProject(mini({ 'models/spend.sql': INCREMENTAL }));
  run(dir);
  writeFileSync(join(dir, 'models', 'spend.sql'), INCREMENTAL.replace('as spend_1d', 'as spend_1d,\n  amount as last_amount'));
  const r = fsql(['--project-dir', dir, 'run']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /models\/spend\.sql: the SELECT's columns \(user_id, event_ts, spend_1d, last_amount\) differ from the existing table's \(user_id, event_ts, spend_1d\); run with --full-refresh --select spend/);
  run(dir, '--full-refresh');
  assert.deepEqual(await rows(dir, 'select count(last_amount) from spend'), [[4n]]);
});

test("source files are read from the project, whatever the working directory", async () => {
  const dir = makeProject(mini());
  const elsewhere = makeProject(mini({ 'data/payments.csv': 'user_id,amount,ts\nzz,1,2024-01-01 00:00:00\n' }));
  const r = fsql(['--project-dir', dir, 'run'], { cwd: elsewhere });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await rows(dir, 'select distinct user_id from spend order by 1'), [['u1'], ['u2']]);
});
