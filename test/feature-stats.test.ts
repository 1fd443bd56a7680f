/**
 * Feature statistics recorded by `fsql run` (SPEC section 11) equal what the warehouse computes
 * directly over the same rows: counts, null fraction, mean, stddev, min and max exactly, DuckDB's
 * quantiles exact below its reservoir's 32,768 values and within 1.5 points of rank above,
 * approx_count_distinct within 2%; an incremental run's statistics cover its range only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { featureStatsPlan, recordFeatureStats, statsTableOf } from '../src/offline/feature-stats.js';
import { STATS_TABLE } from '../src/plans/feature-stats.js';
import type { Warehouse } from '../src/warehouse/warehouse.js';
import { Timestamp, type Row } from '../src/values.js';
import { dayStart, loadDay, runDay, statsProject, withProject } from './helpers/stats-project.js';

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

async function statsOf(wh: Warehouse, runAt: Timestamp): Promise<Map<string, Row>> {
  const rows = await wh.query(`select * from ${STATS_TABLE} where recorded_at = ${wh.dialect.timestampLiteral(runAt)}`);
  return new Map(rows.map((r) => [String(r.feature), r]));
}

/** The same figures, computed directly over the view's rows in [start, end). */
async function direct(wh: Warehouse, feature: string, numeric: boolean, start: Timestamp, end: Timestamp): Promise<Row> {
  const where = `event_ts >= ${wh.dialect.timestampLiteral(start)} and event_ts < ${wh.dialect.timestampLiteral(end)}`;
  const x = `cast(${feature} as double)`;
  const moments = numeric ? `, avg(${x}) as mean, stddev_samp(${x}) as sd, min(${x}) as mn, max(${x}) as mx` : '';
  const [row] = await wh.query(`select count(*) as n, count(${feature}) as nn${moments} from activity where ${where}`);
  return row;
}

/** The fraction of the range's non-NULL values at or below `v`, and strictly below it. */
async function rankOf(wh: Warehouse, feature: string, v: number, start: Timestamp, end: Timestamp): Promise<[number, number]> {
  const where = `event_ts >= ${wh.dialect.timestampLiteral(start)} and event_ts < ${wh.dialect.timestampLiteral(end)} and ${feature} is not null`;
  const [row] = await wh.query(`select avg(case when ${feature} <= ${v} then 1.0 else 0.0 end) as le, avg(case when ${feature} < ${v} then 1.0 else 0.0 end) as lt from activity where ${where}`);
  return [Number(row.le), Number(row.lt)];
}

test('statistics equal the warehouse computed directly over the run\'s rows, and cover the run\'s range only', async () => {
  const dir = statsProject();
  await withProject(dir, async (project, wh) => {
    await loadDay(wh, 0, 1);
    await loadDay(wh, 1, 2, 3000, { sigmas: 1, nullFraction: 0.1 });
    const first = dayStart(2);
    await runDay(project, wh, 0, first); // the table is new: a full build over days 0 and 1
    const second = dayStart(3);
    await runDay(project, wh, 1, second); // incremental: day 1 only
    for (const [runAt, start, end] of [[first, dayStart(0), dayStart(2)], [second, dayStart(1), dayStart(2)]] as const) {
      const stats = await statsOf(wh, runAt);
      assert.deepEqual([...stats.keys()].sort(), ['amount', 'category', 'flag', 'qty']);
      for (const feature of ['amount', 'qty', 'category', 'flag']) {
        const got = stats.get(feature)!;
        const numeric = feature === 'amount' || feature === 'qty';
        const want = await direct(wh, feature, numeric, start, end);
        assert.equal(num(got.row_count), num(want.n), `${feature} row_count`);
        assert.equal(num(got.null_fraction), (Number(want.n) - Number(want.nn)) / Number(want.n), `${feature} null_fraction`);
        if (numeric) {
          assert.equal(num(got.mean), num(want.mean), `${feature} mean`);
          assert.ok(Math.abs(num(got.stddev)! - num(want.sd)!) <= 1e-9 * num(want.sd)!, `${feature} stddev ${got.stddev} vs ${want.sd}`);
          assert.equal(num(got.min), num(want.mn), `${feature} min`);
          assert.equal(num(got.max), num(want.mx), `${feature} max`);
          for (const [col, p] of [['p01', 0.01], ['p05', 0.05], ['p25', 0.25], ['p50', 0.5], ['p75', 0.75], ['p95', 0.95], ['p99', 0.99]] as const) {
            const [le, lt] = await rankOf(wh, feature, num(got[col])!, start, end);
            assert.ok(le >= p - 0.01 && lt <= p + 0.01, `${feature} ${col} = ${got[col]} has rank [${lt}, ${le}], not within 0.01 of ${p}`);
          }
          assert.equal(got.approx_distinct, null);
        } else {
          for (const col of ['mean', 'stddev', 'min', 'max', 'p01', 'p50', 'p99']) assert.equal(got[col], null, `${feature} ${col}`);
        }
        if (feature === 'category') {
          const [{ d }] = await wh.query(`select count(distinct category) as d from activity where event_ts >= ${wh.dialect.timestampLiteral(start)} and event_ts < ${wh.dialect.timestampLiteral(end)}`);
          assert.ok(Math.abs(num(got.approx_distinct)! - Number(d)) <= 0.02 * Number(d), `approx_distinct ${got.approx_distinct} vs ${d}`);
        }
        if (feature === 'flag') assert.equal(got.approx_distinct, null);
      }
      const one = stats.get('amount')!;
      assert.equal(String(one.view_name), 'activity');
      assert.equal((one.recorded_at as Timestamp).toISOString(), runAt.toISOString());
    }
    const [second1] = [...(await statsOf(wh, second)).values()];
    assert.equal((second1.range_start as Timestamp).toISOString(), dayStart(1).toISOString());
    assert.equal((second1.range_end as Timestamp).toISOString(), dayStart(2).toISOString());
    const [first1] = [...(await statsOf(wh, first)).values()];
    assert.equal(first1.range_start, null);
    assert.notEqual(first1.run_id, second1.run_id);
  });
});

test('over more values than its reservoir holds, a DuckDB quantile stays within 1.5 points of rank (standard deviation 0.28)', async () => {
  await withProject(statsProject(), async (project, wh) => {
    const n = 200_000;
    await wh.execute(`create table wide as select timestamp '2024-01-01' + to_seconds(i) as event_ts, (hash(i) % 1000003) / 7.0 as x, cast(hash(i * 3) % 1000 as bigint) as y from range(${n}) as t(i)`);
    const table = wh.dialect.tableIn(project.target, 'wide');
    const recordedAt = Timestamp.parse('2024-02-01T00:00:00Z')!;
    const plan = featureStatsPlan(project.views.get('activity')!, table, (await wh.describe(table))!, undefined, { runId: 'r', recordedAt }, statsTableOf(wh, project));
    assert.deepEqual(plan.features.map((f) => f.name), ['x', 'y']);
    assert.equal(await recordFeatureStats(wh, plan, 'wide'), undefined);
    const stats = await statsOf(wh, recordedAt);
    for (const feature of ['x', 'y']) {
      const got = stats.get(feature)!;
      assert.equal(num(got.row_count), n);
      for (const [col, p] of [['p01', 0.01], ['p05', 0.05], ['p25', 0.25], ['p50', 0.5], ['p75', 0.75], ['p95', 0.95], ['p99', 0.99]] as const) {
        const [row] = await wh.query(`select avg(case when ${feature} <= ${num(got[col])} then 1.0 else 0.0 end) as le, avg(case when ${feature} < ${num(got[col])} then 1.0 else 0.0 end) as lt from wide`);
        assert.ok(Number(row.le) >= p - 0.015 && Number(row.lt) <= p + 0.015, `${feature} ${col} = ${got[col]}: rank [${row.lt}, ${row.le}] vs ${p}`);
      }
    }
  });
});
