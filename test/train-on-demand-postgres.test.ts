/**
 * On-demand outputs of a training table computed by PostgreSQL and by DuckDB (SPEC section 10):
 * the example with txn_request and txn_vs_history, 2,000 events carrying the request fields
 * (non-ASCII categories among them); each row's on-demand values must be exactly what the
 * language's rules give for that row's own request fields and stored features.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DuckDbWarehouse } from '../src/warehouse/duckdb.js';
import type { Row } from '../src/values.js';
import { createTestDatabase, examplePgEnv, loadExampleSource } from './helpers/postgres.js';
import { fsql } from './helpers/project.js';
import { onDemandExample } from './helpers/on-demand-project.js';

async function withDuckDb<T>(fn: (wh: DuckDbWarehouse) => Promise<T>): Promise<T> {
  const wh = await DuckDbWarehouse.open({ name: 'read', type: 'duckdb', schema: 'main', threads: 1, settings: { path: ':memory:' }, onlineStore: { type: 'sqlite' }, serve: { auth: false }, profileFile: 'test' });
  try {
    return await fn(wh);
  } finally {
    await wh.close();
  }
}

const upperAscii = (s: string) => s.replace(/[a-z]/g, (c) => c.toUpperCase());

/** The outputs of txn_vs_history for one training row, by the rules of expressions/evaluate.ts. */
function expected(row: Row): unknown[] {
  const amount = row.amount as number | null;
  const avg = row.user_transaction_stats__avg_amount_7d as number | null;
  const max = row.user_transaction_stats__max_amount_7d as number | null;
  const category = row.merchant_category as string | null;
  const card = row.card_present as boolean | null;
  return [
    amount === null || avg === null || avg === 0 ? null : amount / avg,
    amount === null ? null : amount > 3 * (max ?? 0),
    category !== null && ['gambling', 'crypto'].includes(category) ? 1n : 0n,
    category === null || card === null ? null : `${upperAscii(category)}:${card}`,
  ];
}

const OUTPUTS = ['txn_vs_history__amount_vs_avg_7d', 'txn_vs_history__exceeds_3x_max_7d', 'txn_vs_history__risky_category', 'txn_vs_history__category_card'];

test('PostgreSQL and DuckDB training tables hold the on-demand values the rules give for each row', { timeout: 300_000 }, async () => {
  const db = await createTestDatabase('fsql_ondemand');
  const dir = onDemandExample();
  const events = join(dir, 'data', 'events_od.csv');
  await withDuckDb((wh) =>
    wh.execute(
      `copy (select *, ['food', 'crypto', 'gambling', 'électronique', 'café ☕', 'Crypto'][cast(1 + hash(event_id) % 6 as bigint)] as merchant_category, hash(event_id) % 3 = 0 as card_present from read_csv('${join(dir, 'data', 'events.csv')}')) to '${events}' (header true)`,
    ),
  );
  const env = examplePgEnv(db);
  try {
    await loadExampleSource(db, dir);
    const tables: Record<string, Row[]> = {};
    for (const target of ['pg', 'dev']) {
      const cli = (args: string[]) => fsql(['--project-dir', dir, '--target', target, ...args], { env });
      const run = cli(['run']);
      assert.equal(run.code, 0, run.stderr);
      const out = join(dir, 'target', `${target}.parquet`);
      const trained = cli(['train', '--service', 'fraud_detection', '--events', events, '--out', out]);
      assert.equal(trained.code, 0, trained.stderr);
      tables[target] = await withDuckDb((d) => d.query(`select * from read_parquet('${out}')`));
    }
    for (const [target, rows] of Object.entries(tables)) {
      assert.equal(rows.length, 2000, target);
      assert.deepEqual(Object.keys(rows[0]).slice(-4), OUTPUTS, target);
      let ratios = 0;
      rows.forEach((row, i) => {
        assert.deepEqual(OUTPUTS.map((c) => row[c]), expected(row), `${target} row ${i}`);
        if (row[OUTPUTS[0]] !== null) ratios++;
      });
      assert.ok(ratios > 1000, `${target}: only ${ratios} ratios computed`);
    }
  } finally {
    await db.drop();
  }
});
