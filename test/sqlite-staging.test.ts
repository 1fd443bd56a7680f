/**
 * SQLite's staged sync (sqlite-store.ts): past its first rows, a view's writeColumns batches wait
 * in a temporary table and are upserted in key order by flush(), setWatermark, a read or dropView.
 * The monotonic rule holds across the staged rows and against what is stored; counts are exact
 * (flush returns them, or recordSync adds them); another connection sees nothing until the merge.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { ColumnBatch } from '../src/column-batch.js';
import { openStore } from '../src/online/open.js';
import type { ColumnRows, OnlineStore, ViewLayout } from '../src/online/store.js';
import type { Target } from '../src/project/types.js';
import { Timestamp } from '../src/values.js';
import { DuckDbWarehouse } from '../src/warehouse/duckdb.js';

const TARGET: Target = { name: 't', type: 'duckdb', schema: 'main', threads: 1, settings: { path: ':memory:' }, onlineStore: { type: 'sqlite' }, serve: { auth: false }, profileFile: 't' };
const NS = { project: 'p', target: 'staging' };
const LAYOUT: ViewLayout = { view: 'v', joinKeys: [{ name: 'id', type: { type: 'string' } }], features: [{ name: 'x', type: { type: 'int64' } }], ttlSeconds: 86400 };
const BASE = Timestamp.fromMillis(Date.now() - 3600_000);

let wh: DuckDbWarehouse;
let path: string;

before(async () => {
  wh = await DuckDbWarehouse.open(TARGET);
  path = join(mkdtempSync(join(tmpdir(), 'fsql-staging-')), 'online.sqlite');
});

after(async () => {
  await wh.close();
});

/** Rows `id` = 'e' || (i % entities), ts = BASE + i seconds, x = i, for i in [from, to), as sync hands them over: batches of 100 in random order. */
async function batches(from: number, to: number, entities: number): Promise<ColumnRows[]> {
  const out: ColumnRows[] = [];
  for (let start = from; start < to; start += 100) {
    const sql = `select 'e' || (i % ${entities}) as id, timestamp '${BASE.toSqlText()}' + to_seconds(i) as ts, i::bigint as x from range(${start}, ${Math.min(to, start + 100)}) t(i) order by random()`;
    for await (const batch of wh.streamColumns(sql)) {
      const b = batch as ColumnBatch;
      out.push({ batch: b, keys: [b.names.indexOf('id')], ts: b.names.indexOf('ts'), features: [b.names.indexOf('x')], tsWhat: 'ts', createdWhat: 'created' });
    }
  }
  return out;
}

async function write(store: OnlineStore, rows: ColumnRows[]): Promise<{ written: number; stale: number }> {
  let written = 0;
  let stale = 0;
  for (const r of rows) {
    const w = await store.writeColumns(LAYOUT, r);
    written += w.written;
    stale += w.stale;
  }
  return { written, stale };
}

test('a large sync is staged and merged by flush: newest row per entity, exact counts, invisible to others until then', async () => {
  const store = await openStore({ type: 'sqlite', path }, NS, { purgeIntervalMs: 0, stageAfterRows: 150 });
  const other = await openStore({ type: 'sqlite', path }, NS, { purgeIntervalMs: 0 });
  try {
    // 1,000 rows over 300 entities in batches of 100: the first 200 upserted directly, the rest staged
    const first = await write(store, await batches(0, 1000, 300));
    assert.equal(first.written + first.stale, 200, `direct part only: ${JSON.stringify(first)}`);
    const before = await other.read([{ layout: LAYOUT, key: ['e299'] }, { layout: LAYOUT, key: ['e0'] }]);
    assert.deepEqual(before.map((r) => r?.values.x), [undefined, 0n], 'the staged rows are not in the store yet');
    const flushed = await store.flush();
    assert.equal(first.written + first.stale + flushed.written + flushed.stale, 1000, 'every row counted once, as written or stale');
    // the 800 staged rows: 300 entities' newest (written) and the rest (stale among the staged, or older than stored)
    assert.equal(flushed.written, 300);
    const after = await other.read(Array.from({ length: 300 }, (_, e) => ({ layout: LAYOUT, key: [`e${e}`] })));
    after.forEach((row, e) => assert.equal(row?.values.x, BigInt(e + 300 * Math.floor((999 - e) / 300)), `e${e}: its newest row`));
    assert.deepEqual(await store.flush(), { written: 0, stale: 0 });
    // the merge rebuilt the expiry index (most of the table was staged), and purging still uses it
    const db = new Database(path, { readonly: true });
    try {
      assert.equal(db.prepare("select count(*) from sqlite_master where name = 'fsql_rows_expires_at'").pluck().get(), 1);
      assert.match(JSON.stringify(db.prepare('explain query plan delete from fsql_rows where expires_at is not null and expires_at < 0').all()), /fsql_rows_expires_at/);
    } finally {
      db.close();
    }
  } finally {
    await store.close();
    await other.close();
  }
});

test('staged rows older than what is stored are stale; setWatermark merges, and recordSync counts what it wrote', async () => {
  const store = await openStore({ type: 'sqlite', path }, { ...NS, target: 'second' }, { purgeIntervalMs: 0, stageAfterRows: 1 });
  try {
    // newer rows first (direct and staged), then older ones for the same entities: all stale
    await write(store, await batches(500, 700, 100));
    await store.flush();
    // after a merge a view's next batches count from zero: the first is upserted directly
    const older = await write(store, await batches(0, 200, 100));
    assert.deepEqual(older, { written: 0, stale: 100 }, 'the direct batch; the staged one is decided later');
    assert.deepEqual(await store.flush(), { written: 0, stale: 100 });
    // a merge that flush() did not ask for: setWatermark does it, recordSync counts it
    const newer = await write(store, await batches(700, 900, 100));
    assert.deepEqual(newer, { written: 100, stale: 0 });
    await store.setWatermark('v', BASE.plusSeconds(900));
    await store.recordSync('v', { ok: true, rows: newer.written, seconds: 1.5, at: BASE.plusSeconds(1000) });
    const [stats] = await store.getSyncStats();
    assert.deepEqual(stats, { view: 'v', runs: 1, rows: 200, failures: 0, lastSuccess: BASE.plusSeconds(1000).millis / 1000, duration: 1.5 });
    assert.deepEqual(await store.flush(), { written: 0, stale: 0 }, 'recordSync took the counts');
    const [row] = await store.read([{ layout: LAYOUT, key: ['e5'] }]);
    assert.equal(row?.values.x, 805n);
  } finally {
    await store.close();
  }
});
