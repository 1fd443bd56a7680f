/**
 * The online half of aggregate views checked against the brute-force reference, for any warehouse
 * that runs the sync query (dialects/aggregate-online.ts): a sync time and horizon per case, each
 * entity's state built from the query's batches and put through the store's encoding both ways, and
 * every feature at request times in [s, s + H]: s, s + H, a microsecond inside them, on rows, on
 * rows + W (a row exactly at r - W), a microsecond either side.
 */
import assert from 'node:assert/strict';
import type { ColumnBatch } from '../../src/column-batch.js';
import { valueAt } from '../../src/column-batch.js';
import { stateShape, type AggregateSyncPlan } from '../../src/plans/aggregate-online.js';
import type { RelationName } from '../../src/plans/relation.js';
import { decodeState, encodeState, StateBuilder, type AggregateState } from '../../src/online/aggregate/state.js';
import { valuesAt, windowReader } from '../../src/online/aggregate/windows.js';
import { seededRandom } from '../../src/seeded-random.js';
import { Timestamp } from '../../src/values.js';
import { aggregateReference } from './aggregate-reference.js';
import { INPUT_TYPES, same, SPEC, type AggCase } from './aggregate-cases.js';

export const TYPES = stateShape(SPEC.features).inputs.map((c) => INPUT_TYPES[c]);

/** A case's sync: at a row, a microsecond off one, or anywhere in the data's span; horizons shorter and longer than the windows. */
export function syncPlanFor(c: AggCase, seed: number, events: RelationName): AggregateSyncPlan {
  const next = seededRandom(seed * 7919);
  const known = c.rows.filter((r) => r.ts !== null && r.keys[0] !== null);
  const base = known.length > 0 ? known[Math.floor(next() * known.length)].ts! : 1_710_028_800_000_000n;
  const s = base + [0n, 1n, -1n, BigInt(Math.floor(next() * 7200e6))][Math.floor(next() * 4)];
  const horizonSeconds = [1800, 7200, 86400, 5400.5][seed % 4];
  return { view: 'agg', events, keys: ['user_id'], timestamp: 'ts', shape: stateShape(SPEC.features), inputTypes: TYPES, at: new Timestamp(s), horizonSeconds };
}

/**
 * Each entity's state from the sync query's batches, as served (without C's distinct values). The
 * state a sync encodes must encode the same after a round trip with its distinct values (as a
 * push's fold writes it): the JSON text a string column's values come in is stored as it is only
 * where it is what the list would give (online/aggregate/distinct-text.ts).
 */
export async function statesOf(batches: AsyncIterable<ColumnBatch> | ColumnBatch[], plan: AggregateSyncPlan): Promise<Map<string, AggregateState>> {
  const out = new Map<string, AggregateState>();
  const b = new StateBuilder(plan.shape, Number(plan.at.micros));
  let current: string | undefined;
  const finish = () => {
    if (current === undefined) return;
    const text = encodeState(plan.shape, b.finish());
    assert.equal(encodeState(plan.shape, decodeState(plan.shape, TYPES, text, 0, true)), text, `${current}'s state encodes the same after a round trip`);
    out.set(current, decodeState(plan.shape, TYPES, text));
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

export interface OnlineTally {
  compared: number;
  nonEmpty: number;
  /** request times on a row or its window's start */
  edges: number;
}

/** Every feature of every user at the case's request times against the reference; adds to `tally`. */
export function checkOnline(c: AggCase, seed: number, plan: AggregateSyncPlan, byUser: Map<string, AggregateState>, tally: OnlineTally): void {
  const s = plan.at.micros;
  const H = BigInt(Math.round(plan.horizonSeconds * 1e6));
  const known = c.rows.filter((r) => r.ts !== null && r.keys[0] !== null);
  const reader = windowReader(plan.shape, TYPES, SPEC.features, plan.horizonSeconds);
  const widths = SPEC.features.flatMap((f) => (f.windowSeconds === undefined ? [] : [BigInt(Math.round(f.windowSeconds * 1e6))]));
  const candidates = [s, s + 1n, s + H - 1n, s + H, ...known.flatMap((r) => [r.ts!, ...widths.map((w) => r.ts! + w)]).flatMap((t) => [t - 1n, t, t + 1n])];
  const times = [...new Set(candidates.filter((t) => t >= s && t <= s + H))].slice(0, 60);
  for (const user of [...new Set(known.map((r) => r.keys[0]!)), 'u_none']) {
    const state = byUser.get(user);
    const expected = aggregateReference(c.rows, times.map((t) => ({ keys: [user], ts: t })), SPEC.features);
    times.forEach((t, k) => {
      if (!state) {
        // no state: the entity has no row before s + H
        assert.ok(!known.some((r) => r.keys[0] === user && r.ts! < s + H), `seed ${seed}: ${user} has rows but no state`);
        return;
      }
      const got = valuesAt(reader, state, Number(t));
      SPEC.features.forEach((f, j) => {
        const want = expected[k][j];
        assert.ok(same(got[f.name], want, f), `seed ${seed}, s ${plan.at.toISOString()}, H ${plan.horizonSeconds}s, ${user} at ${new Timestamp(t).toISOString()}: ${f.name} = ${JSON.stringify(got[f.name], (_k, v) => (typeof v === 'bigint' ? Number(v) : v))}, expected ${JSON.stringify(want)}`);
        tally.compared++;
        if (typeof want === 'number' && want !== 0) tally.nonEmpty++;
      });
      if (known.some((r) => r.keys[0] === user && widths.some((w) => r.ts! === t - w || r.ts! === t))) tally.edges++;
    });
  }
}

/** The tally means something: enough non-empty values and edge times. */
export function assertCoverage(tally: OnlineTally, cases: number, what: string): void {
  console.log(`${what}: ${tally.compared} feature values compared, ${tally.nonEmpty} non-empty, ${tally.edges} request times on a row or its window's start`);
  assert.ok(tally.nonEmpty > tally.compared / 4, `too few non-empty values: ${JSON.stringify(tally)}`);
  assert.ok(tally.edges > cases, `too few request times on an edge: ${JSON.stringify(tally)}`);
}
