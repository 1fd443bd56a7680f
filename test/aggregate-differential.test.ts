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
import type { PitView } from '../src/plans/point-in-time.js';
import type { RelationName } from '../src/plans/relation.js';
import type { Row } from '../src/values.js';
import { check, generate, load, reference, tallyCoverage, type AggCoverage } from './helpers/aggregate-cases.js';
import { openDuckDb } from './helpers/pit-cases.js';
import { withTestPostgres } from './helpers/postgres.js';

const CASES = Number(process.env.FSQL_AGG_CASES ?? 60);

/** The aggregate view's events read as a plain view: the latest amount and qty per user (SPEC section 4). */
function plainView(table: RelationName): PitView {
  return { view: 'raw', table, keys: [{ column: 'user_id', event: 'user_id' }], timestamp: 'ts', features: ['amount', 'qty'].map((f) => ({ column: f, output: `raw__${f}` })), allFeatures: ['amount', 'qty', 'merchant'] };
}

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
    // The windows are rendered the same whatever the strategy of the other views: every strategy on a
    // few cases, there beside a plain view (listed first) whose values must be those it has alone.
    for (const strategy of seed <= 3 ? wh.dialect.pitStrategies : wh.dialect.pitStrategies.slice(0, 1)) {
      const both = seed <= 3 ? { ...plan, views: [plainView(plan.views[0].table), ...plan.views] } : plan;
      const sql = renderPointInTime(both, wh.dialect, { strategy });
      const rows = await wh.query(sql);
      const problem = check(c, expected, rows);
      assert.equal(problem, undefined, `seed ${seed}, ${wh.dialect.name} (${strategy}): ${problem}`);
      if (both === plan) continue;
      const alone = await wh.query(renderPointInTime({ ...plan, views: [both.views[0]] }, wh.dialect, { strategy }));
      const plain = (r: Row[]) => r.map((x) => [x.raw__amount, x.raw__qty]);
      assert.ok(rows.length === 0 || ('raw__amount' in rows[0] && plain(alone).some(([a]) => a !== null)) || c.rows.length === 0, `seed ${seed}: no plain view values to compare`);
      assert.deepEqual(plain(rows), plain(alone), `seed ${seed}, ${strategy}: the plain view's values change beside the aggregate view`);
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
  await withTestPostgres(agree);
});
