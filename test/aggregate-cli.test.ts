/**
 * An aggregate view through the real `fsql` binary on DuckDB: compile describes its features, run
 * builds its tiles, a second run after new rows is incremental, train joins it beside a plain view
 * in one service and gives the reference's values for every event, sync stores its states and
 * skew-check finds the served windows equal to train's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { parseDuration } from '../src/duration.js';
import { floatTolerance, type AggFeature } from '../src/plans/aggregate.js';
import { Timestamp } from '../src/values.js';
import { aggregateReference, type AggRow } from './helpers/aggregate-reference.js';
import { aggregateView, mini, MINI_YML } from './helpers/mini.js';
import { fsql, makeProject } from './helpers/project.js';

const VIEW = aggregateView(
  `      agg('*', 'count', windows=['1h', '1d']),
      agg('amount', ['sum', 'avg', 'max', 'stddev_samp'], windows=['1d', 'lifetime']),
      agg('merchant', 'count_distinct', windows=['1d']),
      agg('amount', 'last_n', n=2, windows=['1d'], name='last_2_amounts')`,
  "select user_id, ts, amount, merchant from {{ source('raw', 'payments') }}",
);

const YML = MINI_YML.replace('      - spend: [spend_1d]', '      - spend: [spend_1d]\n      - stats');

function csv(rows: AggRow[]): string {
  return ['user_id,amount,merchant,ts', ...rows.map((r) => [r.keys[0] ?? '', r.values.amount ?? '', r.values.merchant ?? '', r.ts === null ? '' : new Timestamp(r.ts).toSqlText()].join(','))].join('\n') + '\n';
}

const at = (s: string) => Timestamp.parse(s)!.micros;
const row = (user: string | null, ts: string, amount: number | null, merchant: string | null): AggRow => ({ keys: [user], ts: at(ts), values: { amount, merchant } });

const FIRST: AggRow[] = [
  row('u1', '2024-01-01 00:00:00', 10, 'm1'),
  row('u1', '2024-01-01 00:30:00.5', 20, 'm2'),
  row('u1', '2024-01-01 01:00:00', null, 'm2'),
  row('u2', '2024-01-01 02:00:00', 5, null),
  row(null, '2024-01-01 02:00:00', 7, 'm9'),
  row('u1', '2024-01-01 23:59:59.999999', 40, 'm3'),
];
const LATER: AggRow[] = [row('u1', '2024-01-02 00:00:00', 1, 'm1'), row('u2', '2024-01-02 01:00:00.25', 3, 'm4'), row('u1', '2024-01-02 01:00:00.25', 8, 'm1')];

const EVENTS = [
  ['u1', '2024-01-01 00:30:00.5'],
  ['u1', '2024-01-01 01:00:00'],
  ['u1', '2024-01-01 01:00:00.000001'],
  ['u1', '2024-01-02 00:00:00'],
  ['u1', '2024-01-02 00:30:00.500001'],
  ['u2', '2024-01-02 02:00:00'],
  ['u3', '2024-01-02 02:00:00'],
  ['', '2024-01-02 02:00:00'],
  ['u1', '2024-01-03 01:00:00.25'],
] as const;

function features(): AggFeature[] {
  const f = (name: string, fn: AggFeature['function'], column: string, window: string, n?: number): AggFeature => ({ name, function: fn, column, window, windowSeconds: window === 'lifetime' ? undefined : parseDuration(window), ...(n ? { n } : {}) });
  const out = [f('count_1h', 'count', '*', '1h'), f('count_1d', 'count', '*', '1d')];
  for (const fn of ['sum', 'avg', 'max', 'stddev_samp'] as const) for (const w of ['1d', 'lifetime']) out.push(f(`amount_${fn}_${w}`, fn, 'amount', w));
  return [...out, f('merchant_count_distinct_1d', 'count_distinct', 'merchant', '1d'), f('last_2_amounts', 'last_n', 'amount', '1d', 2)];
}

function parseCsv(text: string): Record<string, string>[] {
  const [header, ...lines] = text.trimEnd().split('\n');
  const cols = header.split(',');
  return lines.map((l) => {
    const cells = l.match(/("([^"]|"")*"|[^,]*)(,|$)/g)!.map((c) => c.replace(/,$/, '').replace(/^"|"$/g, '').replace(/""/g, '"'));
    return Object.fromEntries(cols.map((c, i) => [c, cells[i]]));
  });
}

test('fsql compile, run (full, then incremental), train and sync with an aggregate view (DuckDB)', async () => {
  const dir = makeProject(mini({ 'data/payments.csv': csv(FIRST), 'models/stats.sql': VIEW, 'models/schema.yml': YML }));
  writeFileSync(join(dir, 'events.csv'), ['user_id,event_timestamp', ...EVENTS.map(([u, t]) => `${u},${t}`)].join('\n') + '\n');
  const ok = (args: string[]) => {
    const r = fsql(['--project-dir', dir, ...args], { cwd: dir });
    assert.equal(r.code, 0, `fsql ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    return r;
  };
  const compiled = ok(['compile']);
  assert.match(compiled.stdout + compiled.stderr, /stats: aggregate view, tile 3600s; count_1h: count\(\*\) over 1h; count_1d: count\(\*\) over 1d; amount_sum_1d: sum\(amount\) over 1d/);
  const manifest = JSON.parse(readFileSync(join(dir, 'target', 'manifest.json'), 'utf8'));
  assert.deepEqual(manifest.views.stats.aggregations[0], { name: 'count_1h', function: 'count', column: '*', window: '1h', window_seconds: 3600 });

  ok(['run']);
  const kinds = () => JSON.parse(readFileSync(join(dir, 'target', 'run_results.json'), 'utf8')).results.find((r: { name: string }) => r.name === 'stats');
  assert.equal(kinds().kind, 'table');
  // newest first: the tables' tile order below is then the build's doing, not the file's
  writeFileSync(join(dir, 'data', 'payments.csv'), csv([...FIRST, ...LATER].reverse()));
  ok(['run']);
  assert.equal(kinds().kind, 'incremental', 'a second run with the tiles in place is incremental');
  assert.equal(kinds().range.start, '2024-01-01T23:59:59.999999Z', 'from the newest loaded event (lookback 0)');

  // about one row per (user, hour): the per-tile relations are views of the events, which the incremental run left as they were
  // the database opened and closed for each look (fsql's own processes open it in between)
  const inDb = async <T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> => {
    const db = await DuckDBInstance.create(join(dir, 'target', 'dev.duckdb'));
    const conn = await db.connect();
    try {
      return await fn(conn);
    } finally {
      conn.closeSync();
      db.closeSync();
    }
  };
  const kindsOfTiles = () =>
    inDb(async (conn) => {
      const rows = await conn.runAndReadAll(`select table_name, table_type from information_schema.tables where table_name like 'stats\\_\\_%' escape '\\' order by table_name`);
      return Object.fromEntries(rows.getRows().map(([name, type]) => [String(name), String(type)]));
    });
  const PER_TILE = ['stats__distinct__merchant', 'stats__ends__amount', 'stats__tiles'];
  assert.deepEqual(await kindsOfTiles(), Object.fromEntries(PER_TILE.map((t) => [t, 'VIEW'])));

  const fs = features();
  const trainMatches = (rows: AggRow[], out: string) => {
    ok(['train', '--service', 'svc', '--events', 'events.csv', '--out', out]);
    const got = parseCsv(readFileSync(join(dir, out), 'utf8'));
    const expected = aggregateReference(rows, EVENTS.map(([u, t]) => ({ keys: [u || null], ts: at(t) })), fs);
    assert.equal(got.length, EVENTS.length);
    got.forEach((r, i) => {
      assert.ok('spend__spend_1d' in r, 'the plain view is joined too');
      fs.forEach((f, j) => {
        const want = expected[i][j];
        const cell = r[`stats__${f.name}`];
        const value = Array.isArray(want) ? JSON.stringify(want) : want === null ? '' : String(want);
        const same = typeof want === 'number' ? Math.abs(Number(cell) - want) <= 1e-9 * Math.max(1, Math.abs(want)) : cell.replace(/\s/g, '') === value;
        assert.ok(same, `event ${i} (${EVENTS[i].join(' ')}): ${f.name} = '${cell}', expected ${value}`);
      });
    });
    return got;
  };
  const got = trainMatches([...FIRST, ...LATER], 'out.csv');

  // A full refresh gives the same training table as the incremental build (floats up to their
  // summation order: the two builds hold the same tiles in another physical order).
  ok(['run', '--full-refresh', '--select', 'stats']);
  ok(['train', '--service', 'svc', '--events', 'events.csv', '--out', 'again.csv']);
  const again = parseCsv(readFileSync(join(dir, 'again.csv'), 'utf8'));
  assert.equal(again.length, got.length);
  assert.deepEqual(Object.keys(again[0]), Object.keys(got[0]));
  const tolerance = new Map(fs.map((f) => [`stats__${f.name}`, floatTolerance(f.function)]));
  again.forEach((r, i) =>
    Object.entries(r).forEach(([name, cell]) => {
      const before = got[i][name];
      const within = tolerance.get(name);
      const same = cell === before || (within !== undefined && cell !== '' && Math.abs(Number(cell) - Number(before)) <= within * Math.max(1, Math.abs(Number(before))));
      assert.ok(same, `event ${i}: ${name} = '${cell}' after a full refresh, '${before}' after the incremental run`);
    }),
  );

  // Each row twice: two rows per (user, hour), so a full build makes the per-tile relations tables
  // (dropping the views first), and then back to views once the rows are single again.
  writeFileSync(join(dir, 'data', 'payments.csv'), csv([...FIRST, ...LATER, ...FIRST, ...LATER].reverse()));
  ok(['run', '--full-refresh', '--select', 'stats']);
  assert.deepEqual(await kindsOfTiles(), Object.fromEntries(PER_TILE.map((t) => [t, 'BASE TABLE'])));
  trainMatches([...FIRST, ...LATER, ...FIRST, ...LATER], 'twice.csv');
  // A full build writes every table in tile order: DuckDB keeps rows as written, so an incremental
  // run's DELETE and scans from a tile on skip the older row groups by their min and max.
  await inDb(async (conn) => {
    for (const table of ['stats', ...PER_TILE]) {
      const tiles = (await conn.runAndReadAll(`select __fsql_tile from main.${table} order by rowid`)).getRows().map((r) => Number(r[0]));
      assert.deepEqual(tiles, [...tiles].sort((a, b) => a - b), `${table}: rows in tile order`);
    }
  });
  writeFileSync(join(dir, 'data', 'payments.csv'), csv([...FIRST, ...LATER]));
  ok(['run', '--full-refresh', '--select', 'stats']);
  assert.deepEqual(await kindsOfTiles(), Object.fromEntries(PER_TILE.map((t) => [t, 'VIEW'])));

  // Tiles missing (a failed build): train says which table and what to run.
  await inDb((conn) => conn.run('drop view main.stats__tiles'));
  const missing = fsql(['--project-dir', dir, 'train', '--service', 'svc', '--events', 'events.csv', '--out', 'x.csv'], { cwd: dir });
  assert.equal(missing.code, 1, missing.stdout + missing.stderr);
  assert.match(missing.stderr, /models\/stats\.sql: aggregate view 'stats' has no tile table "main"\."stats__tiles"; build it with `fsql run --select stats`/);

  // sync reads the events table only; skew-check trains, so the tiles are built again first
  const sync = ok(['sync']);
  assert.match(sync.stderr, /OK +stats: 2 entities read, 2 written/);
  // fsql get computes the windows now: the data is years old, so only lifetime windows hold rows
  const got1 = JSON.parse(ok(['get', '--service', 'svc', '--key', 'user_id=u1', '--json']).stdout);
  const byName = new Map(got1.features.map((f: { name: string; value: unknown; status: string }) => [f.name, f]));
  assert.deepEqual(byName.get('stats.count_1d'), { ...(byName.get('stats.count_1d') as object), value: '0', status: 'PRESENT' });
  assert.equal((byName.get('stats.amount_sum_lifetime') as { value: unknown }).value, '79', 'int64 amounts: 10 + 20 + 40 + 1 + 8');
  const dry = ok(['sync', '--select', 'stats', '--dry-run']);
  assert.match(dry.stdout, /-- stats: aggregate view: per entity its window state at the sync time/);
  ok(['run', '--select', 'stats']);
  const skew = ok(['skew-check', '--service', 'svc']);
  assert.match(skew.stderr, /skew-check svc at .*: 2 entities x \d+ features, \d+ values present on both sides, 0 difference\(s\)/);
  const plan = ok(['run', '--dry-run', '--select', 'stats', '--start', '2024-01-02']);
  assert.match(plan.stdout, /-- stats: aggregate incremental \(per-tile tables shown; [^\n]*\)\nbegin transaction;\ndelete from "main"\."stats" where "ts" >= timestamp '2024-01-02 00:00:00\.000000';/);
  // 2024-01-02 is hour 473,376 since the epoch: tiles from there on are rebuilt
  assert.match(plan.stdout, /delete from "main"\."stats__tiles" where "__fsql_tile" >= 473376;/);
});
