/**
 * The ZetaSQL client (src/compiler/zetasql/): BigQuery's language options in effect, values in and
 * out, analysis problems by file, line and column, and a server that is too slow, gone, or sent
 * too much becoming a clear ZetaSqlError. One server for the file; the last test kills it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { analyzeBigQuery } from '../src/compiler/zetasql/analyze-bigquery.js';
import { SqlRejected, ZetaSqlClient, type ZetaTable } from '../src/compiler/zetasql/client.js';
import { binaryName, ZetaSqlError } from '../src/compiler/zetasql/server.js';
import { Timestamp } from '../src/values.js';
import { ZETASQL_SKIP } from './helpers/zetasql.js';

const PAYMENTS: ZetaTable = {
  name: '`acme-ml.raw.payments`',
  columns: [
    { name: 'user_id', type: 'string' },
    { name: 'amount', type: 'FLOAT64' },
    { name: 'n', type: 'INT64' },
    { name: 'ok', type: 'boolean' },
    { name: 'ts', type: 'timestamp' },
    { name: 'day', type: 'DATE' },
    { name: 'tags', type: 'ARRAY<STRING>' },
  ],
  rows: [
    ['u1', 1.5, 9007199254740993n, true, Timestamp.parse('2024-03-01T10:00:00.000001Z')!, '2024-02-29', ['a', 'ü']],
    ['u2', -0, -5n, false, Timestamp.parse('1969-12-31T23:59:59.999999Z')!, '1970-01-01', []],
    [null, null, null, null, null, null, null],
    { user_id: 'u3', amount: Number.POSITIVE_INFINITY, ts: '2024-03-01 00:00:00' },
  ],
};

test('the server binary is chosen per platform, and there is none for Windows', () => {
  assert.equal(binaryName('linux', 'x64'), 'remote_server.so');
  assert.equal(binaryName('darwin', 'arm64'), 'remote_server_arm');
  assert.equal(binaryName('win32', 'x64'), undefined);
});

test('without the devDependency, starting ZetaSQL says what is missing and how to install it', async () => {
  // The client's modules copied where no node_modules folder is above them, as in a production install.
  const built = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');
  const dir = mkdtempSync(join(tmpdir(), 'fsql-no-zetasql-'));
  writeFileSync(join(dir, 'package.json'), '{"type": "module"}');
  for (const f of ['errors.js', 'secrets.js', 'values.js', 'compiler/zetasql']) cpSync(join(built, f), join(dir, f), { recursive: true });
  const copy = await import(pathToFileURL(join(dir, 'compiler', 'zetasql', 'client.js')).href);
  await assert.rejects(copy.ZetaSqlClient.start(), { name: 'ZetaSqlNotInstalled', message: /ZetaSQL is not installed: @fivetrandevelopers\/zetasql is a devDependency .* run `npm install`/ });
});

describe('ZetaSQL client', { skip: ZETASQL_SKIP }, () => {
  let zeta: ZetaSqlClient;
  before(async () => {
    const started = Date.now();
    zeta = await ZetaSqlClient.start();
    console.log(`ZetaSQL server up in ${Date.now() - started} ms`);
  });
  after(() => zeta?.close());

  test('values go in and come back unchanged: 64-bit integers, microseconds before 1970, dates, arrays, NULLs', async () => {
    const { columns, rows } = await zeta.evaluate('select * from `acme-ml.raw.payments`', [PAYMENTS]);
    assert.deepEqual(columns, PAYMENTS.columns.map((c) => ({ ...c, type: c.type.toUpperCase().replace('BOOLEAN', 'BOOL') })));
    assert.deepEqual(rows[0], { user_id: 'u1', amount: 1.5, n: 9007199254740993n, ok: true, ts: Timestamp.parse('2024-03-01T10:00:00.000001Z'), day: '2024-02-29', tags: ['a', 'ü'] });
    assert.deepEqual(rows[1].ts, new Timestamp(-1n));
    assert.deepEqual(rows[1].tags, []);
    assert.ok(Object.values(rows[2]).every((v) => v === null));
    assert.equal(rows[3].amount, Number.POSITIVE_INFINITY);
    assert.equal(rows[3].n, null);
  });

  test("BigQuery's rules are in effect: UTC days, microsecond timestamps, INTERVAL, QUALIFY, structs; no INT32", async () => {
    const { rows } = await zeta.evaluate(
      "select timestamp_trunc(timestamp '2024-03-01 03:00:00+00', day) as day, timestamp '2024-03-01 00:00:00+00' - interval 1 day as before, struct(1 as a, 'x' as b) as s, 7 " +
        'from `acme-ml.raw.payments` where true qualify row_number() over (order by n) = 1',
      [PAYMENTS],
    );
    assert.deepEqual(rows, [{ day: Timestamp.parse('2024-03-01'), before: Timestamp.parse('2024-02-29'), s: { a: 1n, b: 'x' }, f0_: 7n }]);
    await assert.rejects(zeta.evaluate("select timestamp '2024-03-01 00:00:00.123456789+00'", []), SqlRejected);
    await assert.rejects(zeta.evaluate('select cast(1 as int32)', []), /Type not found: int32/i);
  });

  test('evaluation errors and statements the evaluator cannot run are SqlRejected, with the place', async () => {
    await assert.rejects(zeta.evaluate('select 1 / 0', []), (e: SqlRejected) => e instanceof SqlRejected && /division by zero/.test(e.message));
    await assert.rejects(zeta.evaluate('select\n  nope', []), (e: SqlRejected) => e.problem.line === 2 && e.problem.column === 3 && /Unrecognized name: nope/.test(e.message));
    await assert.rejects(zeta.evaluate('create table `a.b.c` as select 1 as x', []), /does not support statement kind/);
  });

  test('analyzeBigQuery lists problems by file, line (plus the offset) and column, and chains views through produces', async () => {
    const view = { sql: 'select user_id, sum(amount) as spend\nfrom `acme-ml.raw.payments`\ngroup by user_id\n', file: 'models/spend.sql', produces: '`acme-ml.features.spend`' };
    const problems = await analyzeBigQuery(
      [
        view,
        { sql: 'select user_id, spend * 2 as double_spend from `acme-ml.features.spend`', file: 'models/double.sql' },
        { sql: '\nselect user_id,\n  amount + ok as broken\nfrom `acme-ml.raw.payments`', file: 'models/broken.sql', lineOffset: 3 },
        { sql: 'select * from `acme-ml.raw.nowhere`', file: 'models/missing.sql' },
        { sql: "merge into `acme-ml.features.spend` as t using (select 'u' as user_id) as s on false when not matched then insert row", file: 'run.sql' },
        { sql: 'create or replace table `acme-ml.features.copy` as select * from `acme-ml.features.spend`;\nselect spend from `acme-ml.features.spend`' },
      ],
      [PAYMENTS],
      { client: zeta },
    );
    assert.deepEqual(
      problems.map((p) => ({ ...p, message: p.message.slice(0, 40) })),
      [
        { file: 'models/broken.sql', line: 6, column: 3, message: 'No matching signature for operator + for' },
        { file: 'models/missing.sql', line: 1, column: 15, message: 'Table not found: `acme-ml.raw.nowhere`' },
        { file: 'run.sql', line: 1, column: 115, message: 'Inserted row has wrong column count; Has' },
      ],
    );
    const { statements } = await zeta.analyze('begin transaction;\ndelete from `acme-ml.raw.payments` where n < 0;\ncommit;', [PAYMENTS]);
    assert.deepEqual(statements.map((s) => s.kind), ['resolved_begin_stmt_node', 'resolved_delete_stmt_node', 'resolved_commit_stmt_node']);
  });

  test('a request over 4 MiB is refused with a clear error', async () => {
    const big: ZetaTable = { name: 'a.b.big', columns: [{ name: 's', type: 'STRING' }], rows: Array.from({ length: 5000 }, () => ['x'.repeat(1000)]) };
    await assert.rejects(zeta.evaluate('select count(*) from `a.b.big`', [big]), (e: Error) => e instanceof ZetaSqlError && /over ZetaSQL's limit of 4 MiB/.test(e.message));
    const { rows } = await zeta.evaluate('select count(*) as n from `a.b.big`', [{ ...big, rows: big.rows!.slice(0, 3000) }]);
    assert.deepEqual(rows, [{ n: 3000n }]);
  });

  test('a server that hangs becomes an error at the deadline, and answers again once it resumes', async () => {
    const pid = zeta.server.pid!;
    process.kill(pid, 'SIGSTOP');
    try {
      await assert.rejects(zeta.evaluate('select 1', [], { timeoutMs: 300 }), (e: Error) => e instanceof ZetaSqlError && /did not answer EvaluateQuery within 0.3 s/.test(e.message));
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    assert.deepEqual((await zeta.evaluate('select 1 as one', [])).rows, [{ one: 1n }]);
  });

  test('a server that died becomes a ZetaSqlError, not a hang', async () => {
    process.kill(zeta.server.pid!, 'SIGKILL');
    await zeta.server.exited;
    await assert.rejects(zeta.evaluate('select 1', [], { timeoutMs: 10_000 }), (e: Error) => e instanceof ZetaSqlError && /the server is gone: .*exited \(SIGKILL\)/.test(e.message));
  });
});
