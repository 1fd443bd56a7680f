/**
 * A full build of an aggregate view chooses its per-tile relations from the data
 * (offline/run-aggregate.ts): views of the events, a state per row, where rows fill about one
 * (keys, tile) each; tables where they fill more. Each build replaces what the last one made, of
 * either kind: on DuckDB, and on a real PostgreSQL, which drops no table a view depends on and
 * replaces no view whose columns change. Training gives the reference's values after each build.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderPointInTime } from '../src/dialects/point-in-time.js';
import { builtKind, findBuilt, runAggregate } from '../src/offline/run-aggregate.js';
import { Timestamp } from '../src/values.js';
import type { Warehouse } from '../src/warehouse/warehouse.js';
import { BASE, check, createSource, HOUR as TILE, insertRows, loadEvents, reference, runPlan, SPEC, type AggCase } from './helpers/aggregate-cases.js';
import { perTilePrefix, tileTables, type AggregateRunPlan } from '../src/plans/aggregate.js';
import type { AggRow } from './helpers/aggregate-reference.js';
import { openDuckDb } from './helpers/pit-cases.js';
import { withTestPostgres } from './helpers/postgres.js';


/**
 * One row per (user, tile): 40 users over 12 tiles, a NULL here and there; events of 10 users
 * inside and at the end of the span. Enough (keys, tile) for DuckDB's estimate of their count
 * (HyperLogLog, within about 20% at this size) to leave no doubt.
 */
function oneRowPerTile(): AggCase {
  const rows: AggRow[] = [];
  for (let u = 0; u < 40; u++) {
    for (let h = 0; h < 12; h++) {
      const ts = BASE + BigInt(h) * TILE + BigInt((u * 7919 + h * 104729) % 3600) * 1_000_000n;
      rows.push({ keys: [`u${u}`], ts, values: { amount: (u * 13 + h) % 17 === 0 ? null : u + h / 4, qty: u - h, merchant: `m${(u + h) % 5}` } });
    }
  }
  const events = Array.from({ length: 20 }, (_v, k) => ({ keys: [`u${k % 10}`], ts: BASE + BigInt(k % 13) * TILE + 1n }));
  return { seed: 0, rows, events };
}

async function switchKinds(wh: Warehouse): Promise<void> {
  const sparse = oneRowPerTile();
  const dense: AggCase = { ...sparse, rows: [...sparse.rows, ...sparse.rows, ...sparse.rows] };
  const source = await createSource(wh, 'k');
  const train = await loadEvents(wh, sparse, 'k');
  // the relations named with the schema unqualified names land in, as a run's are (describe looks there)
  const schema = String(Object.values((await wh.query('select current_schema() as s'))[0])[0]);
  const inSchema = (plan: AggregateRunPlan, spec = SPEC): AggregateRunPlan => ({ ...plan, spec, tables: tileTables(spec, { name: 'k_agg', schema }) });
  const full = inSchema(runPlan('k', source));
  const trains = async (c: AggCase, what: string) => assert.equal(check(c, reference(c), await wh.query(renderPointInTime(train, wh.dialect))), undefined, `${wh.dialect.name}, ${what}`);
  const run = async (plan: AggregateRunPlan) => runAggregate(wh, plan, await findBuilt(wh, plan.tables), 'k');
  const build = async (c: AggCase, perRow: boolean, what: string) => {
    await wh.execute([`delete from ${source}`, ...insertRows(wh, source, c.rows)]);
    await run(full);
    assert.equal(builtKind(full, await findBuilt(wh, full.tables)), perRow, `${wh.dialect.name}, ${what}: per-row views ${perRow ? '' : 'not '}expected`);
    await trains(c, what);
  };
  // an incremental run after a later row: over views it replaces the events only, over tables it rebuilds the tiles from its start
  const incremental = async (c: AggCase, perRow: boolean, what: string) => {
    const start = new Timestamp(c.rows.reduce((m, r) => (r.ts !== null && r.ts > m ? r.ts : m), 0n));
    const later: AggRow = { keys: ['u3'], ts: start.micros, values: { amount: 1, qty: 1, merchant: 'm1' } };
    await wh.execute(insertRows(wh, source, [later]));
    await run(inSchema({ ...runPlan('k', source, { start }), perRow }));
    await trains({ ...c, rows: [...c.rows, later] }, what);
  };
  await build(sparse, true, 'a row per tile');
  await incremental(sparse, true, 'incremental over views');
  await build(sparse, true, 'built again over its own views');
  await build(dense, false, 'three rows per tile');
  await incremental(dense, false, 'incremental over tables');
  await build(sparse, true, 'back to a row per tile');
  // An aggregation dropped from the view: the view of its values stays behind (PostgreSQL drops it
  // with the events, which it would keep from being replaced), and the next build succeeds.
  const fewer = { ...SPEC, features: SPEC.features.filter((f) => f.function !== 'last_n' && f.function !== 'first_n') };
  const left = full.tables.ends[0].table;
  const rest = inSchema(runPlan('k', source), fewer);
  await run(rest);
  assert.equal(builtKind(rest, await findBuilt(wh, rest.tables)), true, 'per-row views of the rest');
  // where the dialect drops the views on the events (dropViewsOn: PostgreSQL), it is gone
  const dropsViews = wh.dialect.dropViewsOn(wh.dialect.relation(full.tables.events), perTilePrefix(full.tables.events)).length > 0;
  if (dropsViews) assert.equal(await wh.describe(left), undefined, 'the view of a dropped aggregation is gone');
  await build(sparse, true, 'every aggregation again');
}

test('a full build makes per-row views for a row per tile and tables for more, replacing either kind (DuckDB)', async () => {
  const wh = await openDuckDb();
  try {
    await switchKinds(wh);
  } finally {
    await wh.close();
  }
});

test('the same on a real PostgreSQL server', () => withTestPostgres(switchKinds));
