/**
 * Differential test of aggregate views (SPEC section 9): random cases with the edges that break
 * implementations (helpers/aggregate-cases.ts), tiles built by `fsql run`'s SQL (half of them
 * incrementally), windows computed by `fsql train`'s SQL, executed on DuckDB and on a real
 * PostgreSQL server, every value checked against the brute-force reference.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderPointInTime } from '../src/dialects/point-in-time.js';
import type { Warehouse } from '../src/warehouse/warehouse.js';
import { check, generate, load, reference, tallyCoverage, type AggCoverage } from './helpers/aggregate-cases.js';
import { openDuckDb } from './helpers/pit-cases.js';
import { createTestDatabase, openPostgres } from './helpers/postgres.js';

const CASES = Number(process.env.FSQL_AGG_CASES ?? 60);

async function agree(wh: Warehouse): Promise<{ nonEmpty: number; incremental: number; edges: AggCoverage }> {
  let nonEmpty = 0;
  let incremental = 0;
  const edges: AggCoverage = { rowAtT: 0, rowAtWindowStart: 0, rowOneMicroOff: 0, eventOnTileBoundary: 0, nullKeyEvents: 0, keysWithoutRows: 0, duplicateRows: 0 };
  for (let seed = 1; seed <= CASES; seed++) {
    const c = generate(seed);
    const prefix = `a${seed}`;
    const plan = await load(wh, c, prefix);
    const expected = reference(c);
    nonEmpty += expected.filter((row) => typeof row[0] === 'number' && row[0] > 0).length;
    if (c.incrementalFrom !== undefined) incremental++;
    tallyCoverage(c, edges);
    // The windows are rendered the same whatever the strategy of the other views: every strategy on a few cases.
    for (const strategy of seed <= 3 ? wh.dialect.pitStrategies : wh.dialect.pitStrategies.slice(0, 1)) {
      const sql = renderPointInTime(plan, wh.dialect, { strategy });
      const rows = await wh.query(sql);
      const problem = check(c, expected, rows);
      assert.equal(problem, undefined, `seed ${seed}, ${wh.dialect.name} (${strategy}): ${problem}`);
    }
  }
  return { nonEmpty, incremental, edges };
}

test(`aggregate windows agree with the brute-force reference on ${CASES} random cases (DuckDB)`, async () => {
  const wh = await openDuckDb();
  try {
    const cov = await agree(wh);
    assert.ok(cov.nonEmpty > CASES * 5, `too few events with rows in their 30m window: ${JSON.stringify(cov)}`);
    assert.ok(cov.incremental > CASES / 3, JSON.stringify(cov));
    console.log(`edges reached over ${CASES} cases: ${JSON.stringify(cov.edges)}`);
    // The generator must reach every edge, or the agreement above proves little.
    for (const [edge, n] of Object.entries(cov.edges)) assert.ok(n >= CASES / 6, `only ${n} cases of ${edge}: ${JSON.stringify(cov.edges)}`);
  } finally {
    await wh.close();
  }
});

test(`aggregate windows agree with the brute-force reference on ${CASES} random cases (PostgreSQL, real server)`, async () => {
  const db = await createTestDatabase();
  const wh = await openPostgres(db);
  try {
    await agree(wh);
  } finally {
    await wh.close();
    await db.drop();
  }
});
