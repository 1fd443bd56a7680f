/**
 * Differential test of the point-in-time join: random feature tables and events (many keys, ties,
 * TTL boundaries to the second and the microsecond, NULL keys and timestamps, duplicate events,
 * multi-entity views, several views), every SQL strategy executed on DuckDB and PostgreSQL's on a
 * real server, each output row checked against the plain TypeScript reference in
 * helpers/pit-reference.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PitStrategy } from '../src/dialects/dialect.js';
import { renderPointInTime } from '../src/dialects/point-in-time.js';
import type { Row } from '../src/values.js';
import type { Warehouse } from '../src/warehouse/warehouse.js';
import { check, generate, load, openDuckDb, reference, tally, type Coverage } from './helpers/pit-cases.js';
import { createTestDatabase, openPostgres } from './helpers/postgres.js';

const CASES = 200;

/** Runs the cases on `wh` with each strategy; the strategies return identical rows, complete ties included. */
async function agree(wh: Warehouse, strategies: readonly PitStrategy[]): Promise<Coverage> {
  const cov: Coverage = { matched: 0, ttlExpired: 0, nullKeyEvents: 0, fullTies: 0, createdDecided: 0 };
  for (let seed = 1; seed <= CASES; seed++) {
    const c = generate(seed);
    const plan = await load(wh, c, `c${seed}`);
    const expected = reference(c);
    tally(c, expected, cov);
    const outputs: Row[][] = [];
    for (const strategy of strategies) {
      const sql = renderPointInTime(plan, wh.dialect, { strategy });
      const rows = await wh.query(sql);
      const problem = check(c, expected, rows);
      assert.equal(problem, undefined, `seed ${seed}, ${wh.dialect.name} ${strategy} strategy: ${problem}\n${sql}`);
      outputs.push(rows);
    }
    // Complete ties are settled by one rule (Dialect.tieBreak), so every strategy returns the same rows.
    for (let i = 1; i < outputs.length; i++) assert.deepEqual(outputs[i], outputs[0], `seed ${seed}: ${strategies[i]} differs from ${strategies[0]}`);
    await wh.execute([...c.views.map((v) => `drop table c${seed}_${v.name}`), `drop table c${seed}_events`]);
  }
  return cov;
}

test(`every point-in-time strategy agrees with the reference on ${CASES} random cases (DuckDB)`, async () => {
  const wh = await openDuckDb();
  try {
    const cov = await agree(wh, wh.dialect.pitStrategies);
    // The generator must reach every rule, or the agreement above proves little.
    for (const [what, n] of Object.entries(cov)) assert.ok(n > 20, `only ${n} checks of ${what}: ${JSON.stringify(cov)}`);
  } finally {
    await wh.close();
  }
});

test(`PostgreSQL's point-in-time strategy agrees with the reference on ${CASES} random cases (real server)`, async () => {
  const db = await createTestDatabase();
  const wh = await openPostgres(db);
  try {
    await agree(wh, wh.dialect.pitStrategies);
  } finally {
    await wh.close();
    await db.drop();
  }
});
