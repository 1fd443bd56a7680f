/**
 * The online half of aggregate views (SPEC section 9) against the brute-force reference: random
 * cases with their edges (helpers/aggregate-cases.ts), each entity's state computed by the sync
 * query (dialects/aggregate-online.ts) on DuckDB, encoded and decoded as the store keeps it, and
 * (and on a real PostgreSQL server), every feature computed at many request times r in [s, s + H]: s itself, s + H, one microsecond
 * inside, and r on a row, on a row + W (the row at exactly r - W), one microsecond either side.
 * Also: one pushed event merges into the state and counts once when pushed twice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderAggregateSync } from '../src/dialects/aggregate-online.js';
import { stateShape, type AggregateSyncPlan } from '../src/plans/aggregate-online.js';
import { decodeState, encodeState, mergeEvent, StateBuilder, type AggregateState } from '../src/online/aggregate/state.js';
import { valuesAt, windowReader } from '../src/online/aggregate/windows.js';
import { seededRandom } from '../src/seeded-random.js';
import { Timestamp } from '../src/values.js';
import { valueAt, type ColumnBatch } from '../src/column-batch.js';
import { aggregateReference } from './helpers/aggregate-reference.js';
import { generate, INPUT_TYPES, load, same, SPEC } from './helpers/aggregate-cases.js';
import { openDuckDb } from './helpers/pit-cases.js';
import { createTestDatabase, openPostgres } from './helpers/postgres.js';
import type { Warehouse } from '../src/warehouse/warehouse.js';

const CASES = Number(process.env.FSQL_AGG_CASES ?? 40);
const INPUTS = stateShape(SPEC.features).inputs;
const TYPES = INPUTS.map((c) => INPUT_TYPES[c]);

/** Each entity's state from the sync query's rows, through the store's encoding. */
async function states(batches: AsyncIterable<ColumnBatch>, plan: AggregateSyncPlan): Promise<Map<string, AggregateState>> {
  const out = new Map<string, AggregateState>();
  const b = new StateBuilder(plan.shape, Number(plan.at.micros));
  let current: string | undefined;
  const finish = () => {
    // as served (without C's distinct values), after a round trip with them (as a push reads it)
    if (current !== undefined) out.set(current, decodeState(plan.shape, TYPES, encodeState(plan.shape, decodeState(plan.shape, TYPES, encodeState(plan.shape, b.finish()), 0, true))));
  };
  for await (const batch of batches) {
    const user = batch.columns[batch.names.indexOf('user_id')];
    for (let r = 0; r < batch.rows; r++) {
      const key = String(valueAt(user, r));
      if (key !== current) {
        finish();
        assert.ok(!out.has(key), `the sync query's rows of ${key} are not together`);
        current = key;
      }
      b.add(batch, r);
    }
  }
  finish();
  return out;
}

async function agree(wh: Warehouse, cases: number): Promise<void> {
  let compared = 0;
  let nonEmpty = 0;
  let edges = 0;
  try {
    for (let seed = 1; seed <= cases; seed++) {
      const c = generate(seed);
      await load(wh, c, `o${seed}`);
      const next = seededRandom(seed * 7919);
      const known = c.rows.filter((r) => r.ts !== null && r.keys[0] !== null);
      // the sync time: on a row, a microsecond off one, or anywhere in the data's span
      const base = known.length > 0 ? known[Math.floor(next() * known.length)].ts! : 1_710_028_800_000_000n;
      const s = base + [0n, 1n, -1n, BigInt(Math.floor(next() * 7200e6))][Math.floor(next() * 4)];
      const horizonSeconds = [1800, 7200, 86400, 5400.5][seed % 4];
      const H = BigInt(Math.round(horizonSeconds * 1e6));
      const shape = stateShape(SPEC.features);
      const plan: AggregateSyncPlan = { view: 'agg', events: { name: `o${seed}_agg` }, keys: ['user_id'], timestamp: 'ts', shape, inputTypes: TYPES, at: new Timestamp(s), horizonSeconds };
      const byUser = await states(wh.streamColumns(renderAggregateSync(plan, wh.dialect)), plan);
      const reader = windowReader(shape, TYPES, SPEC.features, horizonSeconds);
      // request times: the horizon's ends, a microsecond inside them, rows and rows + W (and a microsecond off) inside it
      const widths = SPEC.features.flatMap((f) => (f.windowSeconds === undefined ? [] : [BigInt(Math.round(f.windowSeconds * 1e6))]));
      const candidates = [s, s + 1n, s + H - 1n, s + H, ...known.flatMap((r) => [r.ts!, ...widths.map((w) => r.ts! + w)]).flatMap((t) => [t - 1n, t, t + 1n])];
      const times = [...new Set(candidates.filter((t) => t >= s && t <= s + H))].slice(0, 60);
      const users = [...new Set(known.map((r) => r.keys[0]!)), 'u_none'];
      for (const user of users) {
        const state = byUser.get(user);
        const expected = aggregateReference(c.rows, times.map((t) => ({ keys: [user], ts: t })), SPEC.features);
        times.forEach((t, k) => {
          if (!state) {
            // no state: the entity has no row a window reaches from s to s + H
            const longest = Math.max(...widths.map(Number));
            assert.ok(!known.some((r) => r.keys[0] === user && r.ts! >= s - BigInt(longest) && r.ts! < s + H), `seed ${seed}: ${user} has rows in reach but no state`);
            return;
          }
          const got = valuesAt(reader, state, Number(t));
          SPEC.features.forEach((f, j) => {
            const want = expected[k][j];
            assert.ok(same(got[f.name], want, f), `seed ${seed}, s ${new Timestamp(s).toISOString()}, H ${horizonSeconds}s, ${user} at ${new Timestamp(t).toISOString()}: ${f.name} = ${JSON.stringify(got[f.name], (_k, v) => (typeof v === 'bigint' ? Number(v) : v))}, expected ${JSON.stringify(want)}`);
            compared++;
            if (typeof want === 'number' && want !== 0) nonEmpty++;
          });
          const lifetimeCount = expected[k][SPEC.features.findIndex((f) => f.name === 'count_lifetime')];
          if (known.some((r) => r.keys[0] === user && widths.some((w) => r.ts! === t - w || r.ts! === t))) edges += lifetimeCount === null ? 0 : 1;
        });
      }
    }
  } finally {
    await wh.close();
  }
  console.log(`${wh.dialect.name}: ${compared} feature values compared, ${nonEmpty} non-empty, ${edges} request times on a row or its window's start`);
  assert.ok(nonEmpty > compared / 4, `too few non-empty values: ${nonEmpty} of ${compared}`);
  assert.ok(edges > cases, `too few request times on an edge: ${edges}`);
}

test(`online aggregate state: every window at request times in [s, s + H] equals the reference on ${CASES} random cases (DuckDB)`, async () => {
  await agree(await openDuckDb(), CASES);
});

test(`online aggregate state: the same on ${Math.ceil(CASES / 3)} cases (PostgreSQL, real server)`, async () => {
  const db = await createTestDatabase();
  try {
    await agree(await openPostgres(db), Math.ceil(CASES / 3));
  } finally {
    await db.drop();
  }
});

test('a pushed event merges into the state once, and only inside [s, s + H)', () => {
  const features = SPEC.features.filter((f) => f.column === '*' || f.column === 'amount');
  const shape = stateShape(features);
  const types = shape.inputs.map((c) => INPUT_TYPES[c]);
  const s = 1_000_000_000_000;
  const H = 3_600_000_000;
  const reader = windowReader(shape, types, features, H / 1e6);
  const state = decodeState(shape, types, encodeState(shape, new StateBuilder(shape, s).finish()), 0, true);
  const count = (at: number) => valuesAt(reader, state, at).count_30m;
  assert.equal(count(s + 10), 0n);
  const event = { ts: s + 5, values: shape.inputs.map((c) => (c === 'amount' ? 2.5 : null)) };
  assert.equal(mergeEvent(state, H, event), true);
  assert.equal(mergeEvent(state, H, { ...event, values: [...event.values] }), false, 'the same row twice counts once');
  assert.equal(mergeEvent(state, H, { ...event, ts: s - 1 }), false, 'a row before the sync time is the offline path’s');
  assert.equal(mergeEvent(state, H, { ...event, ts: s + H }), false, 'a row past the horizon reaches no request');
  assert.equal(count(s + 5), 0n, 'the event is not in a window ending at its own time');
  assert.equal(count(s + 6), 1n);
  assert.equal(valuesAt(reader, state, s + 6).amount_sum_30m, 2.5);
  const again = decodeState(shape, types, encodeState(shape, state));
  assert.throws(() => mergeEvent(decodeState(stateShape(SPEC.features), TYPES, encodeState(stateShape(SPEC.features), new StateBuilder(stateShape(SPEC.features), s).finish())), H, event), /decode the state with full = true/);
  assert.deepEqual(valuesAt(reader, again, s + 6), valuesAt(reader, state, s + 6));
});
