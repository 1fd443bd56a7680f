/**
 * `fsql train` end to end on DuckDB: outputs and event sources of every kind, input order, the
 * casts of event times, the errors a user can act on, and that a failed run writes nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { FsqlError } from '../src/errors.js';
import { Logger } from '../src/log.js';
import { runViews } from '../src/offline/run.js';
import { train, type TrainOptions } from '../src/offline/train.js';
import { loadProject } from '../src/project/load.js';
import { DuckDbWarehouse } from '../src/warehouse/duckdb.js';
import { fsql } from './helpers/project.js';
import { EVENTS, EXPECTED_TRAINING, trainProject, VIEWS } from './helpers/train-project.js';

/** Rows of a query as csv-like lines, read with a fresh DuckDB (a file database is opened read-only). */
async function lines(sql: string, db = ':memory:'): Promise<string[]> {
  const instance = await DuckDBInstance.create(db, db === ':memory:' ? {} : { access_mode: 'READ_ONLY' });
  const conn = await instance.connect();
  try {
    await conn.run("set TimeZone = 'UTC'");
    const reader = await conn.runAndReadAll(sql);
    return reader.getRows().map((r) => r.map((v) => (v === null ? '' : String(v))).join(','));
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

const EXPECTED_ROWS = EXPECTED_TRAINING.trim().split('\n').slice(1);

/** The project with its views built (in this process: faster than the binary). */
async function builtProject(overrides: Record<string, string> = {}): Promise<string> {
  const dir = trainProject(overrides);
  const project = loadProject({ projectDir: dir });
  const wh = await DuckDbWarehouse.open(project.target);
  try {
    const results = await runViews(project, wh, new Logger('text', true));
    assert.deepEqual(results.results.map((r) => r.status), ['success', 'success', 'success']);
  } finally {
    await wh.close();
  }
  return dir;
}

/** Runs train in this process (faster than the binary); returns the error, if any. */
async function trainIn(dir: string, opts: Omit<TrainOptions, 'cwd'>): Promise<FsqlError | undefined> {
  const project = loadProject({ projectDir: dir });
  const wh = await DuckDbWarehouse.open(project.target);
  try {
    await train(project, wh, new Logger('text', true), { ...opts, cwd: dir });
    return undefined;
  } catch (e) {
    if (e instanceof FsqlError) return e;
    throw e;
  } finally {
    await wh.close();
  }
}

async function stagingTables(dir: string): Promise<string[]> {
  return lines("select table_name from information_schema.tables where table_name like 'fsql_events_%'", join(dir, 'target', 'dev.duckdb'));
}

test('train joins every event to the features valid at its time, as a csv in input order', async () => {
  const dir = await builtProject();
  const r = fsql(['--project-dir', dir, 'train', '--service', 'training', '--events', 'data/events.csv', '--out', 'out/training.csv'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Wrote 7 rows x 9 columns to out\/training\.csv/);
  assert.equal(readFileSync(join(dir, 'out', 'training.csv'), 'utf8'), EXPECTED_TRAINING);
  assert.deepEqual(readdirSync(join(dir, 'out')), ['training.csv'], 'no temporary file is left');
  assert.deepEqual(await stagingTables(dir), [], 'the staging table is dropped');
});

test('every event source and output kind, and the window strategy, give the same rows', async () => {
  const dir = await builtProject();
  await lines(`copy (select * from read_csv('${join(dir, 'data', 'events.csv')}')) to '${join(dir, 'data', 'events.parquet')}' (format parquet)`);
  const db = await DuckDBInstance.create(join(dir, 'target', 'dev.duckdb'));
  const conn = await db.connect();
  await conn.run(`create table raw_events as select * from read_csv('${join(dir, 'data', 'events.csv')}')`);
  conn.closeSync();
  db.closeSync();

  const runs: [events: string, out: string, strategy?: 'window'][] = [
    ['data/events.parquet', 'out/a.parquet'],
    ['table:raw_events', 'table:training_set'],
    ['table:main.raw_events', 'out/b.csv'],
    [`sql:select * from read_csv('${join(dir, 'data', 'events.csv')}')`, 'out/c.csv'],
    ['data/events.csv', 'out/window.csv', 'window'],
  ];
  for (const [events, out, strategy] of runs) assert.equal(await trainIn(dir, { service: 'training', events, out, strategy }), undefined, `${events} -> ${out}`);

  assert.deepEqual(await lines(`select * from read_parquet('${join(dir, 'out', 'a.parquet')}')`), EXPECTED_ROWS.map(parquetLine));
  assert.deepEqual(await lines('select * from training_set', join(dir, 'target', 'dev.duckdb')), EXPECTED_ROWS.map(parquetLine));
  for (const f of ['b.csv', 'c.csv', 'window.csv']) assert.equal(readFileSync(join(dir, 'out', f), 'utf8'), EXPECTED_TRAINING, f);
  assert.deepEqual(await stagingTables(dir), []);
});

/** A csv line of the expected table as DuckDB prints the typed values. */
function parquetLine(line: string): string {
  return line.replace(/,3\.0,/g, ',3,');
}

test('a subset service joins only its features; event times stored as DATE or TIMESTAMPTZ are cast', async () => {
  const dir = await builtProject();
  const events = join(dir, 'data', 'events.csv');
  const tz = `sql:select * replace (cast(event_timestamp as timestamptz) as event_timestamp) from read_csv('${events}')`;
  assert.equal(await trainIn(dir, { service: 'users_only', events: tz, out: 'out/tz.csv' }), undefined);
  const tzRows = readFileSync(join(dir, 'out', 'tz.csv'), 'utf8').trim().split('\n');
  assert.equal(tzRows[0], 'event_id,user_id,merchant_id,event_timestamp,label,user_stats__score');
  assert.deepEqual(tzRows.slice(1).map((l) => l.split(',').at(-1)), ['3.0', '3.0', '', '', '', '3.0', '']);

  const date = `sql:select *, cast(event_timestamp as date) as event_day from read_csv('${events}')`;
  assert.equal(await trainIn(dir, { service: 'training', events: date, out: 'out/day.csv', timestampColumn: 'event_day' }), undefined);
  // At midnight of 2024-03-01 only merchant 1's row of that midnight (<= is inclusive) and merchant 2's older row exist.
  const day = readFileSync(join(dir, 'out', 'day.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').slice(6).join(','));
  assert.deepEqual(day, [',,0.1,', ',,0.1,', ',,0.9,', ',,0.1,', ',,0.9,', ',,0.1,', ',,,']);
});

test('input order is kept for thousands of events in no particular order', async () => {
  const dir = await builtProject();
  const ids = Array.from({ length: 30000 }, (_, i) => i);
  for (let i = ids.length - 1; i > 0; i--) {
    const j = (i * 7919 + 13) % (i + 1);
    [ids[i], ids[j]] = [ids[j], ids[i]];
  }
  const csv = ['event_id,user_id,merchant_id,event_timestamp,label', ...ids.map((id) => `x${id},u${id % 3},${id % 4},2024-03-01 ${String(8 + (id % 5)).padStart(2, '0')}:00:00,0`)].join('\n');
  writeFileSync(join(dir, 'data', 'many.csv'), `${csv}\n`);
  assert.equal(await trainIn(dir, { service: 'training', events: 'data/many.csv', out: 'out/many.parquet' }), undefined);
  const got = await lines(`select event_id from read_parquet('${join(dir, 'out', 'many.parquet')}')`);
  assert.deepEqual(got, ids.map((id) => `x${id}`));
});

test('events lacking a join key or the timestamp column are named, with the columns they have', async () => {
  const dir = await builtProject({ 'data/no_merchant.csv': EVENTS.replace(/^(\w+,\w*),\d*,/gm, '$1,').replace('user_id,merchant_id', 'user_id') });
  const r = fsql(['--project-dir', dir, 'train', '--service', 'training', '--events', 'data/no_merchant.csv', '--out', 'out/x.csv'], { cwd: dir });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /error: data\/no_merchant\.csv: the events lack join key 'merchant_id' \(needed by merchant_profile, pair_stats\)\. The events have: event_id \(string\), user_id \(string\), event_timestamp \(timestamp\), label \(int64\)\./);
  assert.ok(!existsSync(join(dir, 'out', 'x.csv')));

  const noTs = await trainIn(dir, { service: 'training', events: 'data/events.csv', out: 'out/x.csv', timestampColumn: 'ts' });
  assert.match(String(noTs?.message), /data\/events\.csv: the events lack the timestamp column 'ts'\. The events have: event_id \(string\), user_id \(string\), merchant_id \(int64\), event_timestamp \(timestamp\), label \(int64\)\. Name the event time column with --timestamp-column\./);
  const notTs = await trainIn(dir, { service: 'training', events: 'data/events.csv', out: 'out/x.csv', timestampColumn: 'event_id' });
  assert.match(String(notTs?.message), /the event timestamp column 'event_id' is string, not a timestamp/);
  const clash = await trainIn(dir, { service: 'training', events: `sql:select *, 1 as user_stats__score from read_csv('${join(dir, 'data', 'events.csv')}')`, out: 'out/x.csv' });
  assert.match(String(clash?.message), /^--events \(sql query\): event column user_stats__score would collide with the training table's own columns; rename it in the events\.$/);
  assert.ok(!existsSync(join(dir, 'out', 'x.csv')));
  assert.deepEqual(readdirSync(join(dir, 'out')), [], 'no temporary file is left');
  assert.deepEqual(await stagingTables(dir), []);
});

test('an unknown service, an unwritable output, a bad source and an unbuilt view are errors (exit 1)', async () => {
  const dir = trainProject();
  const cli: [args: string[], message: RegExp][] = [
    [['--service', 'nope', '--events', 'data/events.csv', '--out', 'out/x.csv'], /error: unknown feature service 'nope'\. Services: training, users_only\./],
    [['--service', 'training', '--events', 'data/events.csv', '--out', 'data/events.csv/x.csv'], /error: --out: cannot write data\/events\.csv\/x\.csv: EEXIST: file already exists, mkdir '.*data\/events\.csv'\. Choose a path in a folder you can write to\./],
  ];
  for (const [args, message] of cli) {
    const r = fsql(['--project-dir', dir, 'train', ...args], { cwd: dir });
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  const api: [events: string, out: string, message: RegExp][] = [
    ['data/events.json', 'out/x.csv', /^--events: 'data\/events\.json' is not a \.csv or \.parquet file, table:<name> or sql:<query>\.$/],
    ['data/missing.csv', 'out/x.csv', /^--events: data\/missing\.csv: no such file/],
    ['table:a.b.c', 'out/x.csv', /^--events: 'table:a\.b\.c' is not a table name/],
    ['data/events.csv', 'out/x.json', /^--out: 'out\/x\.json' is not a \.csv or \.parquet file or table:<name>\.$/],
    ['data/events.csv', 'out/x.csv', /^models\/user_stats\.sql: feature view 'user_stats' has no offline table "main"\."user_stats" in target 'dev'; build it with `fsql run --select user_stats`\.$/],
  ];
  for (const [events, out, message] of api) assert.match(String((await trainIn(dir, { service: 'training', events, out }))?.message), message);
  assert.ok(!existsSync(join(dir, 'out', 'x.csv')));
});

test('a run that fails while writing leaves the previous file and table as they were', async () => {
  // A view materialized as a SQL view fails only when the training query reads it.
  const failing = VIEWS['models/merchant_profile.sql']
    .replace("timestamp='feature_ts'", "timestamp='feature_ts', materialized='view'")
    .replace('risk\n', "case when category = 'travel' then error('bad merchant row') else risk end as risk\n");
  const dir = await builtProject({ 'models/merchant_profile.sql': failing });
  writeFileSync(join(dir, 'old.csv'), 'previous training table\n');
  const r = fsql(['--project-dir', dir, 'train', '--service', 'training', '--events', 'data/events.csv', '--out', 'old.csv'], { cwd: dir });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /bad merchant row/);
  assert.equal(readFileSync(join(dir, 'old.csv'), 'utf8'), 'previous training table\n');
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('fsql')), [], 'no temporary file is left');

  const db = await DuckDBInstance.create(join(dir, 'target', 'dev.duckdb'));
  const conn = await db.connect();
  await conn.run("create table training_set as select 'previous' as what");
  conn.closeSync();
  db.closeSync();
  const e = await trainIn(dir, { service: 'training', events: 'data/events.csv', out: 'table:training_set' });
  assert.match(String(e?.message), /bad merchant row/);
  assert.deepEqual(await lines('select * from training_set', join(dir, 'target', 'dev.duckdb')), ['previous']);
  assert.deepEqual(await stagingTables(dir), []);
});

test("the profile's DuckDB settings (dbt-duckdb `settings:`) reach DuckDB, so memory_limit bounds a big train", async () => {
  const project = loadProject({ projectDir: trainProject() });
  const target = { ...project.target, settings: { ...project.target.settings, path: ':memory:', settings: { memory_limit: '300MB' } } };
  const wh = await DuckDbWarehouse.open(target);
  try {
    const [row] = await wh.query("select current_setting('memory_limit') as m");
    assert.match(String(row.m), /^(286\.1 MiB|300\.0 MB)$/);
  } finally {
    await wh.close();
  }
});
