/**
 * The example project on a real PostgreSQL server, end to end: run (incremental twice), test,
 * train, sync, get and serve; the training table and the served vector equal DuckDB's for the same
 * data (the same SQL templates on both warehouses).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { DuckDbWarehouse } from '../src/warehouse/duckdb.js';
import { Timestamp, type Row, type Value } from '../src/values.js';
import { createTestDatabase, examplePgEnv, loadExampleSource } from './helpers/postgres.js';
import { copyExample, fsql, FSQL_BIN } from './helpers/project.js';

async function readParquet(path: string): Promise<Row[]> {
  const wh = await DuckDbWarehouse.open({ name: 'read', type: 'duckdb', schema: 'main', threads: 1, settings: { path: ':memory:' }, onlineStore: { type: 'sqlite' }, serve: { auth: false }, profileFile: 'test' });
  try {
    return await wh.query(`select * from read_parquet('${path}')`);
  } finally {
    await wh.close();
  }
}

/** Equal values; floats to 1e-9 relative (the warehouses may sum a window in another order). */
function close(a: Value, b: Value): boolean {
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  if (a instanceof Timestamp && b instanceof Timestamp) return a.micros === b.micros;
  return a === b;
}

/** Moves the example's data by whole days so that its last transaction was yesterday: sync pushes rows within their TTLs. */
async function shiftToYesterday(dir: string): Promise<void> {
  const days = Math.floor((Date.now() - Date.parse('2024-04-30T00:00:00Z')) / 86_400_000);
  const wh = await DuckDbWarehouse.open({ name: 'shift', type: 'duckdb', schema: 'main', threads: 1, settings: { path: ':memory:' }, onlineStore: { type: 'sqlite' }, serve: { auth: false }, profileFile: 'test' });
  try {
    for (const [file, column] of [['transactions.csv', 'ts'], ['events.csv', 'event_timestamp']]) {
      const path = join(dir, 'data', file);
      await wh.execute([
        `create table t as select * replace (${column} + interval ${days} day as ${column}) from read_csv('${path}')`,
        `copy t to '${path}' (header true)`,
        'drop table t',
      ]);
    }
  } finally {
    await wh.close();
  }
}

test('the example project runs end to end on PostgreSQL and trains and serves what DuckDB does', { timeout: 300_000 }, async () => {
  const db = await createTestDatabase('fsql_example');
  const dir = copyExample({ handWrittenWindows: true });
  await shiftToYesterday(dir);
  const env = examplePgEnv(db);
  const pg = (args: string[]) => fsql(['--project-dir', dir, '--target', 'pg', ...args], { env });
  try {
    await loadExampleSource(db, dir);

    const compiled = pg(['compile']);
    assert.equal(compiled.code, 0, compiled.stderr);
    const run = pg(['run']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /OK {3}user_transaction_stats table/);
    const again = pg(['run']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /OK {3}user_transaction_stats incremental/, 'the second run is incremental (delete+insert in one transaction)');
    const tested = pg(['test']);
    assert.equal(tested.code, 0, tested.stderr + tested.stdout);

    const trainArgs = (out: string) => ['train', '--service', 'fraud_detection', '--events', join(dir, 'data', 'events.csv'), '--out', out];
    const trained = pg(trainArgs(join(dir, 'target', 'pg.parquet')));
    assert.equal(trained.code, 0, trained.stderr);
    const duck = fsql(['--project-dir', dir, 'run']);
    assert.equal(duck.code, 0, duck.stderr);
    const duckTrained = fsql(['--project-dir', dir, ...trainArgs(join(dir, 'target', 'duckdb.parquet'))]);
    assert.equal(duckTrained.code, 0, duckTrained.stderr);
    const [pgRows, duckRows] = [await readParquet(join(dir, 'target', 'pg.parquet')), await readParquet(join(dir, 'target', 'duckdb.parquet'))];
    assert.equal(pgRows.length, 2000);
    assert.deepEqual(Object.keys(pgRows[0]), Object.keys(duckRows[0]));
    let present = 0;
    pgRows.forEach((row, i) => {
      for (const [k, v] of Object.entries(row)) {
        assert.ok(close(v, duckRows[i][k]), `row ${i} ${k}: PostgreSQL ${String(v)}, DuckDB ${String(duckRows[i][k])}`);
        if (k.includes('__') && v !== null) present++;
      }
    });
    assert.ok(present > 10_000, `only ${present} feature values present`);

    const synced = pg(['sync']);
    assert.equal(synced.code, 0, synced.stderr);
    const user = String(duckRows[duckRows.length - 1].user_id);
    const got = pg(['get', '--service', 'fraud_detection', '--key', `user_id=${user}`, '--key', 'merchant_id=m_001', '--json']);
    assert.equal(got.code, 0, got.stderr);
    assert.match(got.stdout, /txn_count_7d/);

    // serve answers from the store sync filled
    const server = spawn(process.execPath, [FSQL_BIN, '--project-dir', dir, '--target', 'pg', 'serve', '--port', '0'], { env: { ...process.env, ...env } });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let err = '';
        server.stderr.on('data', (d) => {
          err += String(d);
          const m = /(http:\/\/[\d.]+:\d+)/.exec(err);
          if (m) resolve(m[1]);
        });
        server.on('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
      });
      const reply = await fetch(`${url}/api/v1/feature-service/get-features`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ params: { featureServiceName: 'fraud_detection', joinKeyMap: { user_id: user, merchant_id: 'm_001' } } }),
      });
      assert.equal(reply.status, 200, await reply.clone().text());
      const body = (await reply.json()) as { result: { features: unknown[] } };
      assert.ok(body.result.features.length > 5);
    } finally {
      server.kill('SIGTERM');
    }
  } finally {
    await db.drop();
  }
});
