/**
 * The online half of aggregate views (SPEC section 9) against the brute-force reference: random
 * cases with their edges (helpers/aggregate-cases.ts), each entity's state computed by the sync
 * query on DuckDB and on a real PostgreSQL server, every feature at request times in [s, s + H]
 * (helpers/aggregate-online-cases.ts; BigQuery's in aggregate-bigquery.test.ts). Also: one pushed
 * event merges into the state, once when pushed twice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderAggregateSync } from '../src/dialects/aggregate-online.js';
import { stateShape } from '../src/plans/aggregate-online.js';
import { featureType } from '../src/plans/aggregate.js';
import { aggregateRowAt } from '../src/online/aggregate/row.js';
import { decodeFeatures, STATE_ENCODING } from '../src/online/codec.js';
import type { ViewLayout } from '../src/online/store.js';
import { decodeState, encodeState, mergeEvent, StateBuilder, type AggInput } from '../src/online/aggregate/state.js';
import { valuesAt, windowReader } from '../src/online/aggregate/windows.js';
import { generate, INPUT_TYPES, load, same, SPEC } from './helpers/aggregate-cases.js';
import { aggregateReference } from './helpers/aggregate-reference.js';
import { Timestamp } from '../src/values.js';
import type { ColumnBatch } from '../src/column-batch.js';
import { assertCoverage, checkOnline, statesOf, syncPlanFor, TYPES, type OnlineTally } from './helpers/aggregate-online-cases.js';
import { openDuckDb } from './helpers/pit-cases.js';
import { createTestDatabase, openPostgres } from './helpers/postgres.js';
import type { Warehouse } from '../src/warehouse/warehouse.js';

const CASES = Number(process.env.FSQL_AGG_CASES ?? 40);

async function agree(wh: Warehouse, cases: number): Promise<void> {
  const tally: OnlineTally = { compared: 0, nonEmpty: 0, edges: 0 };
  try {
    for (let seed = 1; seed <= cases; seed++) {
      const c = generate(seed);
      await load(wh, c, `o${seed}`);
      const plan = syncPlanFor(c, seed, { name: `o${seed}_agg` });
      checkOnline(c, seed, plan, await statesOf(wh.streamColumns(renderAggregateSync(plan, wh.dialect)), plan), tally);
    }
  } finally {
    await wh.close();
  }
  assertCoverage(tally, cases, wh.dialect.name);
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
  assert.equal(mergeEvent(state, H, event), 'merged');
  assert.equal(mergeEvent(state, H, { ...event, values: [...event.values] }), 'duplicate', 'the same row twice counts once');
  assert.equal(mergeEvent(state, H, { ...event, ts: s - 1 }), 'outside', 'a row before the sync time is the offline path’s');
  assert.equal(mergeEvent(state, H, { ...event, ts: s + H }), 'outside', 'a row past the horizon reaches no request');
  assert.equal(count(s + 5), 0n, 'the event is not in a window ending at its own time');
  assert.equal(count(s + 6), 1n);
  assert.equal(valuesAt(reader, state, s + 6).amount_sum_30m, 2.5);
  const again = decodeState(shape, types, encodeState(shape, state));
  assert.throws(() => mergeEvent(decodeState(stateShape(SPEC.features), TYPES, encodeState(stateShape(SPEC.features), new StateBuilder(stateShape(SPEC.features), s).finish())), H, event), /decode the state with full = true/);
  assert.deepEqual(valuesAt(reader, again, s + 6), valuesAt(reader, state, s + 6));
});

test('an entity whose events are all older than its windows has no state; the empty state served in its place gives what train gives (no lifetime window)', async () => {
  const wh = await openDuckDb();
  try {
    const s = 1_710_028_800_000_000n;
    await wh.execute([`create table old_agg (user_id varchar, ts timestamp, amount double)`, `insert into old_agg values ('u_old', ${wh.dialect.timestampLiteral(new Timestamp(s - 86_400_000_000n))}, 5)`]);
    const features = SPEC.features.filter((f) => f.windowSeconds === 1800 && (f.column === '*' || f.column === 'amount'));
    const shape = stateShape(features);
    const plan = { view: 'agg', events: { name: 'old_agg' }, keys: ['user_id'], timestamp: 'ts', shape, inputTypes: ['float64' as const], at: new Timestamp(s), horizonSeconds: 3600 };
    let rows = 0;
    for await (const b of wh.streamColumns(renderAggregateSync(plan, wh.dialect))) rows += b.rows;
    assert.equal(rows, 0, 'no row of the sync query: the entity gets no state');
    // what the server serves an entity without a state (the row vector.ts serves: online/aggregate/row.ts)
    const layout: ViewLayout = {
      view: 'agg',
      joinKeys: [{ name: 'user_id', type: { type: 'string' } }],
      features: features.map((f) => ({ name: f.name, type: featureType(f, 'float64') })),
      ttlSeconds: 3600,
      aggregate: { horizonSeconds: 3600, inputs: [{ name: 'amount', type: 'float64' }], features, encoding: STATE_ENCODING },
    };
    const served = aggregateRowAt(layout, undefined, s + 10n, new Timestamp(s));
    const got = decodeFeatures({ ...layout, aggregate: undefined }, served.text, served.at);
    const want = aggregateReference([{ keys: ['u_old'], ts: s - 86_400_000_000n, values: { amount: 5 } }], [{ keys: ['u_old'], ts: s + 10n }], features)[0];
    features.forEach((f, j) => assert.ok(same(got[f.name], want[j], f), `${f.name}: ${String(got[f.name])}, expected ${JSON.stringify(want[j])}`));
    assert.equal(got.count_30m, 0n);
  } finally {
    await wh.close();
  }
});

test('a state encodes as ASCII and decodes to the same values: escapes, non-ASCII text, NaN and infinities, int64 beyond 2^53', () => {
  const shape = stateShape(SPEC.features);
  const s = 1_710_028_800_000_000;
  const state = new StateBuilder(shape, s).finish();
  const odd = ['plain', 'quote " and \\ backslash', 'line\nbreak\ttab', 'ünïcödé ✓', '\u{1f600} astral', ''];
  const big = 2n ** 60n + 1n;
  const values = (k: number) => shape.inputs.map((c) => (c === 'merchant' ? odd[k % odd.length] : c === 'qty' ? (k % 2 ? -big : BigInt(k)) : [NaN, Infinity, -Infinity, 0.1, -2.5e-300][k % 5]));
  state.raw = odd.map((_v, k) => ({ ts: s + k, values: values(k) }));
  shape.windows.forEach((w, g) => {
    const win = state.windows[g];
    win.rows = 7;
    w.parts.forEach((parts, i) => {
      const type = TYPES[i];
      const all = { n: 3, s: type === 'int64' ? big : NaN, mean: 0.5, m2: Infinity, min: type === 'string' ? odd[1] : type === 'int64' ? -big : -Infinity, max: type === 'string' ? odd[3] : type === 'int64' ? big : 1e300 };
      // only the shape's parts are stored
      for (const p of parts) Object.assign(win.cols[i], { [p]: all[p] });
    });
    for (const i of w.distinct) win.distinct[i] = TYPES[i] === 'string' ? [...odd].sort() : TYPES[i] === 'int64' ? [-big, 0n, big] : [-Infinity, 0.25, NaN];
    w.first.forEach((n, i) => (win.first[i] = n > 0 ? [[s - 5, values(1)[i]!]] : []));
    w.last.forEach((n, i) => (win.last[i] = n > 0 ? [[s - 4, values(3)[i]!]] : []));
  });
  const text = encodeState(shape, state);
  assert.match(text, /^[\x20-\x7e]*\n[\x20-\x7e]*$/, 'printable ASCII, one newline');
  const back = decodeState(shape, TYPES, text, 0, true);
  assert.deepEqual(back.raw, state.raw);
  back.windows.forEach((win, g) => {
    assert.deepEqual(win.cols, state.windows[g].cols);
    assert.deepEqual(win.distinct, state.windows[g].distinct);
    assert.deepEqual([win.first, win.last], [state.windows[g].first, state.windows[g].last]);
    shape.windows[g].distinct.forEach((i) => {
      assert.equal(win.distinctCount[i], state.windows[g].distinct[i]!.length);
      assert.deepEqual([...decodeState(shape, TYPES, text).windows[g].heldByC[i]!], state.raw.map((r) => ((state.windows[g].distinct[i] as AggInput[]).some((v) => Object.is(r.values[i], v)) ? 1 : 0)), 'the raw rows whose value C also holds');
    });
  });
  assert.equal(encodeState(shape, back), text, 'encoding is stable across a round trip');
  // many raw rows and values: the values a raw row holds are found through a set, with the same result
  const m = shape.inputs.indexOf('merchant');
  back.raw = Array.from({ length: 100 }, (_v, k) => ({ ts: s + k, values: shape.inputs.map((_c, i) => (i === m ? `v${k * 3}` : null)) }));
  const g = shape.windows.findIndex((w) => w.distinct.includes(m));
  back.windows[g].distinct[m] = Array.from({ length: 200 }, (_v, k) => `v${k}`).sort();
  const held = decodeState(shape, TYPES, encodeState(shape, back)).windows[g].heldByC[m]!;
  assert.deepEqual([...held], Array.from({ length: 100 }, (_v, k) => (k * 3 < 200 ? 1 : 0)));
});
