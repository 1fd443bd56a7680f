/**
 * `fsql logs load` below the server: a hand-written segment (every type, a NULL, a torn tail)
 * loaded into PostgreSQL for real, twice, each entry once; a segment of an unknown shape refused
 * with its file named; and the statements per warehouse pinned by golden files
 * (test/golden/logs/), BigQuery's and Snowflake's included.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dialectFor } from '../src/dialects/index.js';
import { batchSource, LEDGER_TABLE, renderCreateLedger, renderCreateLogged, renderLedgerOffsets, renderLoadBatch, renderLoggedEvents, renderLoggedSkew, renderMergePushed } from '../src/dialects/logged.js';
import { loggedColumns, LOG_FORMAT_VERSION, type LogEntry, type SegmentHeader } from '../src/feature-log/segment.js';
import { Logger } from '../src/log.js';
import { loadLogs } from '../src/offline/logs-load.js';
import type { Project, ServiceDef, WarehouseType } from '../src/project/types.js';
import { Timestamp } from '../src/values.js';
import type { Warehouse } from '../src/warehouse/warehouse.js';
import { matchGolden } from './helpers/golden-sql.js';
import { createTestDatabase, openPostgres, pgTarget, type TestDatabase } from './helpers/postgres.js';
import { REPO_ROOT } from './helpers/project.js';

const HEADER: SegmentHeader = {
  fsql_log: LOG_FORMAT_VERSION,
  segment: 'host-1-abc-0',
  service: 'scoring',
  join_keys: [{ name: 'user_id', type: { type: 'string' } }, { name: 'account', type: { type: 'int64' } }],
  request_fields: [{ name: 'amount', type: { type: 'float64' } }],
  features: [
    { view: 'stats', feature: 'count_7d', type: { type: 'int64' } },
    { view: 'stats', feature: 'flagged', type: { type: 'boolean' } },
    { view: 'stats', feature: 'last_seen', type: { type: 'timestamp' } },
    { view: 'stats', feature: 'ratio', type: { type: 'float64' } },
  ],
  views: ['stats'],
};

/** Request i as a line of one row. */
function entry(i: number): LogEntry {
  const present = i % 3 !== 0;
  return {
    n: 1,
    id: `host-1-abc-${i}`,
    row: 0,
    t: Date.UTC(2024, 0, 1, 0, 0, i) * 1000,
    k: [`u,"${i}"`, String(9007199254740993n + BigInt(i))],
    c: [i + 0.5],
    v: present ? [String(i), i % 2 === 0, '2023-12-31T00:00:00.000001Z', i === 1 ? 'NaN' : i / 4] : [null, null, null, null],
    e: [present ? Date.UTC(2023, 11, 31, 12) * 1000 : null],
  };
}

function writeLines(dir: string, header: SegmentHeader, lines: unknown[], tail = ''): void {
  mkdirSync(join(dir, 'scoring'), { recursive: true });
  writeFileSync(join(dir, 'scoring', `${header.segment}.ndjson`), `${[header, ...lines].map((l) => JSON.stringify(l)).join('\n')}\n${tail}`);
}

function writeSegment(dir: string, count: number, tail = ''): void {
  writeLines(dir, HEADER, Array.from({ length: count }, (_, i) => entry(i)), tail);
}

const SERVICE: ServiceDef = { name: 'scoring', description: '', features: [{ view: 'stats' }], online: true, logging: { sampleRate: 1 }, file: 'models/x.yml' };
const quiet = new Logger('text', true);
const AT = Timestamp.parse('2024-02-01T00:00:00Z')!;

let db: TestDatabase;
let wh: Warehouse;
let project: Project;

before(async () => {
  db = await createTestDatabase('fsql_logs');
  wh = await openPostgres(db);
  await wh.execute(wh.dialect.createSchema('fsql'));
  project = { target: pgTarget(db), services: new Map([['scoring', SERVICE]]), views: new Map() } as unknown as Project;
});

after(async () => {
  await wh?.close();
  await db?.drop();
});

test('PostgreSQL: a segment loads with its types, its torn tail left out, and a second load adds nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fsql-logs-pg-'));
  writeSegment(dir, 7, '{"id":"torn');
  const first = await loadLogs(project, wh, dir, quiet, { clock: () => AT, batchEntries: 3 });
  assert.deepEqual(first.map((r) => [r.service, r.entries, r.segments]), [['scoring', 7, 1]]);
  const rows = await wh.query('select * from fsql.fsql_logged_scoring order by request_time');
  assert.equal(rows.length, 7);
  assert.deepEqual(Object.keys(rows[0]), loggedColumns(HEADER).map((c) => c.name));
  assert.equal(rows[2].user_id, 'u,"2"');
  assert.equal(rows[2].account, 9007199254740995n);
  assert.equal(rows[2].stats__count_7d, 2n);
  assert.equal(rows[2].stats__flagged, true);
  assert.equal((rows[2].stats__last_seen as Timestamp).toISOString(), '2023-12-31T00:00:00.000001Z');
  assert.equal(rows[2].stats__ratio, 0.5);
  assert.ok(Number.isNaN(rows[1].stats__ratio));
  assert.equal(rows[0].stats__count_7d, null);
  assert.equal(rows[0].stats__serving_status, 'MISSING_DATA');
  assert.equal(rows[0].stats__effective_time, null);
  assert.equal(rows[2].amount, 2.5);

  // the writer appends more (completing nothing torn: a new process writes a new segment)
  const again = await loadLogs(project, wh, dir, quiet, { clock: () => AT });
  assert.equal(again[0].entries, 0);
  writeSegment(dir, 10);
  const more = await loadLogs(project, wh, dir, quiet, { clock: () => AT });
  assert.equal(more[0].entries, 3);
  assert.equal((await wh.query('select count(distinct request_id) as n from fsql.fsql_logged_scoring'))[0].n, 10n);
});

test('a line holding a request of several rows loads as those rows, as a version 2 segment (with "row":0) and a version 1 segment (a line per row, with statuses) do', async () => {
  const rows = [0, 1, 2, 3].map(entry);
  // one request of four rows, in flat lists, without row (version 3)
  const request = { n: 4, id: 'host-2-def-0', t: rows[0].t, k: rows.flatMap((r) => r.k), c: rows.flatMap((r) => r.c), v: rows.flatMap((r) => r.v), e: rows.flatMap((r) => r.e) };
  const versionOne = rows.map((r, i) => ({ ...r, n: undefined, id: 'host-2-def-0', row: i, t: rows[0].t, s: [r.e[0] === null ? 'MISSING_DATA' : 'PRESENT'] }));
  const loaded = async (header: SegmentHeader, lines: unknown[]) => {
    await wh.execute('drop table if exists fsql.fsql_logged_scoring');
    const dir = mkdtempSync(join(tmpdir(), 'fsql-logs-rows-'));
    writeLines(dir, header, lines);
    const [result] = await loadLogs(project, wh, dir, quiet, { clock: () => AT });
    assert.equal(result.entries, 4);
    return wh.query('select * from fsql.fsql_logged_scoring order by request_row');
  };
  const fromRequest = await loaded({ ...HEADER, segment: 'host-2-def-1' }, [request]);
  assert.deepEqual(fromRequest.map((r) => [r.request_id, r.request_row, r.user_id, r.stats__serving_status]), [
    ['host-2-def-0', 0n, 'u,"0"', 'MISSING_DATA'],
    ['host-2-def-0', 1n, 'u,"1"', 'PRESENT'],
    ['host-2-def-0', 2n, 'u,"2"', 'PRESENT'],
    ['host-2-def-0', 3n, 'u,"3"', 'MISSING_DATA'],
  ]);
  assert.deepEqual(await loaded({ ...HEADER, fsql_log: 2, segment: 'host-2-def-3' }, [{ ...request, row: 0 }]), fromRequest);
  assert.deepEqual(await loaded({ ...HEADER, fsql_log: 1, segment: 'host-2-def-2' }, versionOne), fromRequest);
  await wh.execute('drop table if exists fsql.fsql_logged_scoring');
});

test('a file that is not a segment is refused, naming it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fsql-logs-bad-'));
  mkdirSync(join(dir, 'scoring'));
  writeFileSync(join(dir, 'scoring', 'notes.ndjson'), '{"hello": 1}\n');
  await assert.rejects(loadLogs(project, wh, dir, quiet), /notes\.ndjson: the first line is not an fsql feature log header/);
});

test('the statements of logs load per warehouse match the golden SQL', () => {
  for (const type of ['duckdb', 'postgres', 'bigquery', 'snowflake'] as WarehouseType[]) {
    const d = dialectFor(type);
    const target = { database: 'acme', schema: 'features' };
    const ledger = d.tableIn(target, LEDGER_TABLE);
    const table = d.tableIn(target, 'fsql_logged_scoring');
    const staging = d.tableIn(target, 'fsql_logged_scoring__staging');
    // a DuckDB target reads the batch's NDJSON file itself; the others load a staging table
    const source = batchSource(d, staging, d.readsFiles ? { ndjson: '/tmp/fsql-logs/entries.ndjson', header: HEADER } : undefined);
    const statements = [
      renderCreateLedger(d, ledger, AT),
      renderLedgerOffsets(d, ledger, "it's"),
      renderCreateLogged(d, table, source),
      ...renderLoadBatch(d, table, source, loggedColumns(HEADER).map((c) => c.name), ledger, [
        { service: 'scoring', segment: 'host-1-abc-0', endOffset: 4096, entries: 20 },
        { service: 'scoring', segment: 'host-2-def-0', endOffset: 512, entries: 2 },
      ], AT),
      renderLoggedEvents(d, table, ['request_id', 'request_row', 'user_id', 'account', 'amount'], { start: AT }, ['stats__count_7d', 'stats__ratio']),
      renderMergePushed(d, d.tableIn(target, 'merchant_risk'), d.tableIn(target, 'merchant_risk__pushed'), ['merchant_id', 'feature_ts'], ['merchant_id', 'feature_ts', 'risk_score']),
      renderLoggedSkew(d, renderLoggedEvents(d, table, ['request_id', 'request_row'], {}, ['stats__ratio']), d.tableIn(target, 'fsql_skew_1'), ['stats__ratio'], 100),
    ];
    matchGolden(join(REPO_ROOT, 'test', 'golden', 'logs'), `${type}.sql`, `${statements.join(';\n\n')};\n`);
  }
});
