/**
 * Aggregate views' BigQuery SQL executed on ZetaSQL's reference engine (BigQuery's semantics): the
 * run's SELECTs build the events and tiles from the differential cases' rows, the training query
 * computes the windows, the online sync query gives each entity's state, and every value (trained,
 * and online at request times in [s, s + H]) meets the brute-force reference. (ZetaSQL evaluates
 * queries, not DML: the incremental statements' MERGE/DELETE/INSERT run on DuckDB and PostgreSQL in
 * aggregate-differential.test.ts.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ZetaSqlClient, type ZetaTable } from '../src/compiler/zetasql/client.js';
import { aggregateTableSelects, renderFullBuild } from '../src/dialects/aggregate-tiles.js';
import { tileOf } from '../src/plans/aggregate.js';
import { BigQueryDialect } from '../src/dialects/bigquery.js';
import { dialectFor } from '../src/dialects/index.js';
import { renderPointInTime } from '../src/dialects/point-in-time.js';
import { ROW_COLUMN } from '../src/plans/point-in-time.js';
import type { RelationName } from '../src/plans/relation.js';
import { Timestamp, type Row } from '../src/values.js';
import { check, generate, reference, runPlan, TILE_SECONDS, trainPlan } from './helpers/aggregate-cases.js';
import { ZETASQL_SKIP } from './helpers/zetasql.js';
import { assertCoverage, checkOnline, statesOf, syncPlanFor, type OnlineTally } from './helpers/aggregate-online-cases.js';
import { renderAggregateSync } from '../src/dialects/aggregate-online.js';
import type { ColumnBatch } from '../src/column-batch.js';

/** BigQuery with an exact count in place of the sketch the reference engine lacks. */
class ExactDistinct extends BigQueryDialect {
  approxDistinct(expr: string): string {
    return `count(distinct ${expr})`;
  }
}

const SEEDS = Array.from({ length: 30 }, (_, i) => i + 1);
const bigquery = dialectFor('bigquery');
const named = (r: RelationName) => ({ ...r, database: 'acme-ml', schema: 'features' });
const nameOf = (r: RelationName) => `acme-ml.features.${r.name}`;

describe('aggregate views: BigQuery SQL on ZetaSQL', { skip: ZETASQL_SKIP }, () => {
  let zeta: ZetaSqlClient;
  before(async () => {
    zeta = await ZetaSqlClient.start();
  });
  after(async () => {
    await zeta?.close();
  });

  test(`tiles, windows and online states meet the reference on ${SEEDS.length} random cases`, async () => {
    let checked = 0;
    const online: OnlineTally = { compared: 0, nonEmpty: 0, edges: 0 };
    for (const seed of SEEDS) {
      const c = generate(seed);
      const prefix = `a${seed}`;
      const source: ZetaTable = {
        name: `acme-ml.features.${prefix}_src`,
        columns: [
          { name: 'user_id', type: 'string' },
          { name: 'ts', type: 'timestamp' },
          { name: 'amount', type: 'float64' },
          { name: 'qty', type: 'int64' },
          { name: 'merchant', type: 'string' },
        ],
        rows: c.rows.map((r) => [r.keys[0], r.ts === null ? null : new Timestamp(r.ts), r.values.amount, r.values.qty === null ? null : BigInt(r.values.qty), r.values.merchant] as never),
      };
      // the per-tile relations as tables, or (every other case) as per-row views, whose rows are loaded as tables here
      const plan = runPlan(prefix, bigquery.relation(named({ name: `${prefix}_src` })), undefined, seed % 2 === 0);
      plan.tables = {
        events: named(plan.tables.events),
        tiles: named(plan.tables.tiles),
        distinct: plan.tables.distinct.map((x) => ({ ...x, table: named(x.table) })),
        ends: plan.tables.ends.map((x) => ({ ...x, table: named(x.table) })),
      };
      const tables: ZetaTable[] = [source];
      for (const t of aggregateTableSelects(plan, bigquery)) {
        const r = await zeta.evaluate(t.select, tables);
        tables.push({ name: nameOf(t.table), columns: r.columns, rows: r.rows });
      }
      // the full build's density: every row with a key and a time, and its (keys, tile) (the reference engine has no
      // APPROX_COUNT_DISTINCT: counted exactly, over the same hash)
      const valid = c.rows.filter((x) => x.ts !== null && x.keys[0] !== null);
      const density = Object.values(((await zeta.evaluate(renderFullBuild(plan, [], new ExactDistinct()).density, tables)).rows as Row[])[0]).map(Number);
      assert.deepEqual(density, [valid.length, new Set(valid.map((x) => `${x.keys[0]} ${tileOf(new Timestamp(x.ts!), TILE_SECONDS)}`)).size], `seed ${seed}: rows and (keys, tile)`);
      const events: ZetaTable = {
        name: `acme-ml.features.${prefix}_events`,
        columns: [
          { name: 'event_id', type: 'int64' },
          { name: 'user_id', type: 'string' },
          { name: 'event_timestamp', type: 'timestamp' },
          { name: ROW_COLUMN, type: 'int64' },
        ],
        rows: c.events.map((e, i) => [BigInt(i), e.keys[0], e.ts === null ? null : new Timestamp(e.ts), BigInt(i)] as never),
      };
      const train = trainPlan(prefix, named({ name: `${prefix}_events` }), undefined);
      train.views = train.views.map((v) => ({ ...v, table: plan.tables.events, aggregate: { ...v.aggregate!, tables: plan.tables } }));
      const sql = renderPointInTime(train, bigquery);
      const got = (await zeta.evaluate(sql, [...tables, events])).rows as Row[];
      const problem = check(c, reference(c), got);
      assert.equal(problem, undefined, `seed ${seed}: ${problem}`);
      checked += c.events.length;

      // online: each entity's state from the sync query's rows, every window at request times in [s, s + H]
      const sync = syncPlanFor(c, seed, plan.tables.events);
      const r = await zeta.evaluate(renderAggregateSync(sync, bigquery), tables);
      const names = r.columns.map((col) => col.name);
      const rows = r.rows as Row[];
      const batch: ColumnBatch = { rows: rows.length, names, columns: names.map((n) => ({ kind: 'values', values: rows.map((x) => x[n] ?? null) })) };
      checkOnline(c, seed, sync, await statesOf([batch], sync), online);
    }
    assert.ok(checked > 1000, `${checked} events`);
    assertCoverage(online, SEEDS.length, 'bigquery (ZetaSQL), online');
  });
});
