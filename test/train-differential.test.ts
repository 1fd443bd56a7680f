/**
 * Differential test of the point-in-time join: random feature tables and events (many keys, ties,
 * TTL boundaries to the second and the microsecond, NULL keys and timestamps, duplicate events,
 * multi-entity views, several views), both SQL strategies executed on DuckDB, each output row
 * checked against the plain TypeScript reference in helpers/pit-reference.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderPointInTime, type PitStrategy } from '../src/dialects/point-in-time.js';
import type { Row } from '../src/values.js';
import { check, generate, load, openDuckDb, reference, tally, type Coverage } from './helpers/pit-cases.js';

const CASES = 200;

test(`both point-in-time strategies agree with the reference on ${CASES} random cases`, async () => {
  const wh = await openDuckDb();
  const cov: Coverage = { matched: 0, ttlExpired: 0, nullKeyEvents: 0, fullTies: 0, createdDecided: 0 };
  try {
    for (let seed = 1; seed <= CASES; seed++) {
      const c = generate(seed);
      const plan = await load(wh, c, `c${seed}`);
      const expected = reference(c);
      tally(c, expected, cov);
      const outputs: Partial<Record<PitStrategy, Row[]>> = {};
      for (const strategy of ['asof', 'window'] as const) {
        const sql = renderPointInTime(plan, wh.dialect, { strategy });
        const rows = await wh.query(sql);
        const problem = check(c, expected, rows);
        assert.equal(problem, undefined, `seed ${seed}, ${strategy} strategy: ${problem}\n${sql}`);
        outputs[strategy] = rows;
      }
      // Where no full tie leaves a choice, the two strategies return identical rows.
      if (expected.every((views) => views.every((allowed) => allowed.length <= 1))) assert.deepEqual(outputs.window, outputs.asof, `seed ${seed}: strategies differ`);
      await wh.execute([...c.views.map((v) => `drop table c${seed}_${v.name}`), `drop table c${seed}_events`]);
    }
  } finally {
    await wh.close();
  }
  // The generator must reach every rule, or the agreement above proves little.
  for (const [what, n] of Object.entries(cov)) assert.ok(n > 20, `only ${n} checks of ${what}: ${JSON.stringify(cov)}`);
});
