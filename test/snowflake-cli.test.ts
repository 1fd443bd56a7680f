/**
 * `fsql run` on a Snowflake target, end to end: the real CLI and the real snowflake-sdk against
 * FakeSnowflake. The statements each run sends are exactly those of the golden dry-run files.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FakeSnowflake, type FakeColumn, type FakeReply } from './fakes/snowflake-server.js';
import { splitGolden } from './helpers/golden-sql.js';
import { copyExample, fsql, FSQL_BIN, type CliResult } from './helpers/project.js';
import { sfProfiles, SF_PASSWORD } from './helpers/snowflake.js';

/** The CLI in a child process, without blocking this process (the fake answers from here). */
function fsqlAsync(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [FSQL_BIN, ...args], { env: process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const text = (name: string): FakeColumn => ({ name, type: 'text' });
/** information_schema.columns as Snowflake stores the example's tables (unquoted names, upper case). */
const TABLES: Record<string, [string, string, string | null][]> = {
  MERCHANT_RISK: [['MERCHANT_ID', 'TEXT', null], ['FEATURE_TS', 'TIMESTAMP_NTZ', null], ['TXN_COUNT_30D', 'NUMBER', '0'], ['VOLUME_30D', 'FLOAT', null], ['CHARGEBACK_RATE', 'FLOAT', null], ['RISK_SCORE', 'FLOAT', null]],
  USER_MERCHANT_PAIR: [['USER_ID', 'TEXT', null], ['MERCHANT_ID', 'TEXT', null], ['EVENT_TS', 'TIMESTAMP_NTZ', null], ['PAIR_TXN_COUNT_30D', 'NUMBER', '0'], ['PAIR_SPEND_30D', 'NUMBER', '2']],
  USER_TRANSACTION_STATS: [
    ['USER_ID', 'TEXT', null],
    ['EVENT_TS', 'TIMESTAMP_NTZ', null],
    // in the SELECT's order: incremental runs refuse a table whose columns differ
    ...['TXN_COUNT_1H', 'SPEND_1H', 'TXN_COUNT_1D', 'SPEND_1D', 'TXN_COUNT_7D', 'SPEND_7D', 'AVG_AMOUNT_7D', 'MAX_AMOUNT_7D', 'LARGE_TXN_COUNT_1D'].map(
      (c): [string, string, string] => [c, 'NUMBER', c.includes('COUNT') ? '0' : '2'],
    ),
  ],
};
/** The events file as INFER_SCHEMA would type it, with the row number train adds. */
const EVENTS: [string, string, string | null][] = [
  ['EVENT_ID', 'TEXT', null], ['USER_ID', 'TEXT', null], ['MERCHANT_ID', 'TEXT', null], ['AMOUNT', 'NUMBER', '2'],
  ['EVENT_TIMESTAMP', 'TIMESTAMP_NTZ', null], ['LABEL', 'NUMBER', '0'], ['__FSQL_ROW', 'NUMBER', '0'],
];

/** A fake account that remembers which tables exist and describes them. */
async function account(existing: string[] = []): Promise<{ fake: FakeSnowflake; dir: string }> {
  const fake = await FakeSnowflake.start();
  const tables = new Set(existing);
  fake.on(/information_schema\.columns/, (sql): FakeReply => {
    const name = /table_name = '(\w+)'/.exec(sql)![1];
    return {
      result: {
        columns: [text('COLUMN_NAME'), text('DATA_TYPE'), { name: 'NUMERIC_SCALE', type: 'fixed' }],
        rows: !tables.has(name) ? [] : name.startsWith('FSQL_EVENTS_') ? EVENTS : TABLES[name],
      },
    };
  });
  fake.on(/^create or replace table "ANALYTICS"\."FEATURES"\."(\w+)"/, (sql): FakeReply => {
    tables.add(/"FEATURES"\."(\w+)"/.exec(sql)![1]);
    return { result: { columns: [text('status')], rows: [['Table successfully created.']] } };
  });
  const dir = copyExample({ handWrittenWindows: true });
  writeFileSync(join(dir, 'profiles.yml'), sfProfiles(fake, {}, 'fraud_features'));
  return { fake, dir };
}

/** The statements `run --dry-run` prints for the same folder (for the shipped example they are the golden files of snowflake-golden.test.ts). */
const dryRunStatements = (dir: string, ...args: string[]) => splitGolden(fsql(['--project-dir', dir, 'run', '--dry-run', ...args]).stdout);
/** What a run sent, less the bookkeeping (session set-up, context check, describe, state, feature statistics); the dry run ends statements at `;`. */
const built = (fake: FakeSnowflake) => fake.statements().filter((q) => !/information_schema\.columns|"FSQL_STATE"|"FSQL_FEATURE_STATS"/.test(q)).map((q) => q.trimEnd());

/** Latest-row-per-entity queries answered from the TABLES layout: one row per view, an hour old. */
function latestRows(fake: FakeSnowflake, hourAgo: number): void {
  const types: Record<string, FakeColumn['type']> = { TEXT: 'text', TIMESTAMP_NTZ: 'timestamp_ntz', NUMBER: 'fixed', FLOAT: 'real' };
  fake.on(/qualify row_number\(\) over/, (sql): FakeReply => {
    const table = /from "ANALYTICS"\."FEATURES"\."(\w+)"/.exec(sql)![1];
    const names = [.../^select (.*)$/m.exec(sql)![1].matchAll(/"(\w+)"/g)].map((m) => m[1]);
    const meta = new Map(TABLES[table].map(([n, t, scale]) => [n, { t, scale }]));
    const columns = names.map((n): FakeColumn => ({ name: n, type: types[meta.get(n)!.t], scale: meta.get(n)!.scale ? Number(meta.get(n)!.scale) : undefined }));
    const value = (n: string, t: string): string =>
      n.endsWith('_ID') ? (n === 'USER_ID' ? 'u_1' : 'm_1') : t === 'TIMESTAMP_NTZ' ? `${hourAgo}.000000000` : n === 'TXN_COUNT_7D' ? '9007199254740993' : t === 'NUMBER' ? '2' : '0.25';
    return { result: { columns, rows: [names.map((n) => value(n, meta.get(n)!.t))] } };
  });
  fake.on(/^select max\("(\w+)"\) as newest/, { result: { columns: [{ name: 'NEWEST', type: 'timestamp_ntz' }], rows: [[`${hourAgo}.000000000`]] } });
}

// Each test has its own fake account and project folder, so they run side by side.
describe('fsql on a Snowflake target', { concurrency: 4 }, () => {
  test('run builds every view on Snowflake with exactly the statements its dry run prints, and records the columns', async () => {
    const { fake, dir } = await account();
    try {
      const r = await fsqlAsync(['--project-dir', dir, 'run', '--threads', '1']);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /warning|snowflake-sdk|aws/i, 'no SDK noise on the terminal');
      assert.deepEqual(built(fake), dryRunStatements(dir));
      const results = JSON.parse(readFileSync(join(dir, 'target', 'run_results.json'), 'utf8'));
      assert.deepEqual(results.results.map((x: { status: string }) => x.status), ['success', 'success', 'success']);
      const stats = results.results.find((x: { name: string }) => x.name === 'user_transaction_stats');
      assert.deepEqual(stats.columns.slice(0, 3), [
        { name: 'user_id', type: 'string' },
        { name: 'event_ts', type: 'timestamp' },
        { name: 'txn_count_1h', type: 'int64' },
      ]);
      assert.deepEqual(fake.sessionParams().map((p) => p.TIMEZONE), [], 'sessions logged out at the end');
      assert.ok(fake.logins.every((l) => l.query.roleName === 'TRANSFORMER' && l.query.warehouse === 'COMPUTE_WH'));
    } finally {
      await fake.stop();
    }
  });

  test('run --start replaces the range of an existing incremental table in one transaction (as its dry run prints)', async () => {
    const { fake, dir } = await account(Object.keys(TABLES));
    try {
      const r = await fsqlAsync(['--project-dir', dir, 'run', '--threads', '1', '--start', '2024-04-01']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(built(fake), dryRunStatements(dir, '--start', '2024-04-01'));
    } finally {
      await fake.stop();
    }
  });

  test('an incremental run starts from the newest loaded timestamp minus the lookback', async () => {
    const { fake, dir } = await account(Object.keys(TABLES));
    try {
      fake.on(/^select max\("EVENT_TS"\) as newest from "ANALYTICS"\."FEATURES"\."USER_TRANSACTION_STATS"$/, {
        result: { columns: [{ name: 'NEWEST', type: 'timestamp_ntz' }], rows: [['1711929600.000000000']] },
      });
      const r = await fsqlAsync(['--project-dir', dir, 'run', '--select', 'user_transaction_stats']);
      assert.equal(r.code, 0, r.stderr);
      const sent = built(fake);
      assert.equal(sent[0], 'select max("EVENT_TS") as newest from "ANALYTICS"."FEATURES"."USER_TRANSACTION_STATS"');
      assert.equal(sent[1], 'begin transaction');
      assert.equal(sent[2], `delete from "ANALYTICS"."FEATURES"."USER_TRANSACTION_STATS" where "EVENT_TS" >= '2024-03-31 00:00:00.000000'::timestamp_ntz`);
      assert.equal(sent.at(-1), 'commit');
    } finally {
      await fake.stop();
    }
  });

  test('a view that fails names its file and the Snowflake error; the others still build', async () => {
    const { fake, dir } = await account();
    try {
      fake.on(/^create or replace table "ANALYTICS"\."FEATURES"\."MERCHANT_RISK"/, {
        error: { code: '002003', sqlState: '42S02', message: "SQL compilation error:\nObject 'RAW.TRANSACTIONS' does not exist or not authorized." },
      });
      const r = await fsqlAsync(['--project-dir', dir, 'run', '--threads', '1']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /FAIL merchant_risk: models\/merchant\/merchant_risk\.sql: Snowflake error 002003 \(42S02\): SQL compilation error:\nObject 'RAW\.TRANSACTIONS' does not exist or not authorized\./);
      assert.match(r.stderr, /PASS=2 ERROR=1/);
    } finally {
      await fake.stop();
    }
  });

  test('a wrong password stops the run with what to fix, and the password appears nowhere', async () => {
    const { fake, dir } = await account();
    try {
      fake.credentials = { user: 'fsql', password: 'a different one' };
      const r = await fsqlAsync(['--project-dir', dir, 'run']);
      assert.equal(r.code, 1);
      assert.equal(r.stderr, "error: Snowflake rejected the login of user 'fsql' on account 'xy12345.us-east-1': Incorrect username or password was specified. Check user: and password: in profiles.yml, output 'sf' (and the environment variables they read).\n");
      assert.ok(!r.stdout.includes(SF_PASSWORD) && !r.stderr.includes(SF_PASSWORD));
    } finally {
      await fake.stop();
    }
  });

  test('train stages the events file with PUT and COPY, joins on Snowflake, streams the rows to a file or writes a table', async () => {
    const { fake, dir } = await account(Object.keys(TABLES));
    try {
      const ts = (iso: string) => String(Date.parse(iso) / 1000) + '.000000000';
      fake.on(/^select min\(/, { result: { columns: [{ name: 'MIN_TS', type: 'timestamp_ntz' }, { name: 'MAX_TS', type: 'timestamp_ntz' }], rows: [[ts('2024-03-01T00:01:20Z'), ts('2024-03-02T00:00:00Z')]] } });
      fake.on(/^select count\(\*\) as n from/, { result: { columns: [{ name: 'N', type: 'fixed' }], rows: [['2']] } });
      fake.on(/^with fsql_events/, (sql): FakeReply => {
        const features = [...sql.matchAll(/\bas "([A-Z0-9_]+__[A-Z0-9_]+)"/g)].map((m) => m[1]);
        return {
          result: {
            columns: [text('EVENT_ID'), text('USER_ID'), text('MERCHANT_ID'), { name: 'AMOUNT', type: 'fixed', scale: 2 }, { name: 'EVENT_TIMESTAMP', type: 'timestamp_ntz' }, { name: 'LABEL', type: 'fixed' }, ...features.map((f): FakeColumn => ({ name: f, type: 'real' }))],
            rows: [
              ['e_1', 'u_1', 'm_1', '33.12', ts('2024-03-01T00:01:20Z'), '0', ...features.map(() => '1.5')],
              ['e_2', 'u_2', 'm_2', '11.48', ts('2024-03-02T00:00:00Z'), '1', ...features.map(() => null)],
            ],
          },
        };
      });
      const out = join(dir, 'training.csv');
      const r = await fsqlAsync(['--project-dir', dir, 'train', '--service', 'fraud_detection', '--events', join(dir, 'data', 'events.csv'), '--out', out]);
      assert.equal(r.code, 0, r.stderr);
      const sent = fake.statements();
      const put = sent.find((q) => q.startsWith('put '));
      assert.match(put ?? '', /^put 'file:\/\/\/.*\/events\.parquet' @"ANALYTICS"\."FEATURES"\."FSQL_LOAD_[0-9A-F]{12}" auto_compress = false overwrite = true$/);
      assert.ok(sent.some((q) => /^copy into "ANALYTICS"\."FEATURES"\."FSQL_EVENTS_\w+" from @.* match_by_column_name = case_insensitive$/.test(q)));
      assert.ok(sent.some((q) => /^drop table if exists "ANALYTICS"\."FEATURES"\."FSQL_EVENTS_\w+"$/.test(q)), 'the staged events are dropped');
      const lines = readFileSync(out, 'utf8').trim().split('\n');
      assert.equal(lines.length, 3);
      const header = lines[0].split(',');
      assert.deepEqual(header.slice(0, 6), ['event_id', 'user_id', 'merchant_id', 'amount', 'event_timestamp', 'label']);
      assert.ok(header.includes('user_transaction_stats__txn_count_7d') && header.includes('merchant_risk__risk_score'), lines[0]);
      assert.match(lines[1], /^e_1,u_1,m_1,33\.12,2024-03-01 00:01:20,0,1\.5,/);
      assert.match(lines[2], /^e_2,u_2,m_2,11\.48,2024-03-02 00:00:00,1,,/);

      // --out table: the join result stays in Snowflake
      const toTable = await fsqlAsync(['--project-dir', dir, 'train', '--service', 'fraud_detection', '--events', join(dir, 'data', 'events.csv'), '--out', 'table:training_set']);
      assert.equal(toTable.code, 0, toTable.stderr);
      assert.ok(fake.statements().some((q) => q.startsWith('create or replace table "ANALYTICS"."FEATURES"."TRAINING_SET" as\nwith fsql_events')));
    } finally {
      await fake.stop();
    }
  });

  test('sync streams the latest row per entity from Snowflake into the online store; get and freshness read it back', async () => {
    const { fake, dir } = await account(Object.keys(TABLES));
    try {
      latestRows(fake, Math.floor(Date.now() / 1000) - 3600);
      const sync = await fsqlAsync(['--project-dir', dir, 'sync']);
      assert.equal(sync.code, 0, sync.stderr);
      assert.equal(fake.statements().filter((q) => /qualify row_number\(\) over/.test(q)).length, 3);
      const get = await fsqlAsync(['--project-dir', dir, 'get', '--service', 'fraud_detection', '--key', 'user_id=u_1', '--key', 'merchant_id=m_1', '--json']);
      assert.equal(get.code, 0, get.stderr);
      const body = JSON.stringify(JSON.parse(get.stdout));
      assert.match(body, /9007199254740993/, 'int64 exact from Snowflake to the online store');
      assert.match(body, /0\.25/);
      const fresh = await fsqlAsync(['--project-dir', dir, 'freshness', '--json']);
      assert.equal(fresh.code, 0, fresh.stderr + fresh.stdout);
      assert.deepEqual(fresh.stdout.trim().split('\n').map((l) => JSON.parse(l).source ?? JSON.parse(l).view), ['raw.transactions', 'merchant_risk', 'user_merchant_pair', 'user_transaction_stats']);
    } finally {
      await fake.stop();
    }
  });
});
