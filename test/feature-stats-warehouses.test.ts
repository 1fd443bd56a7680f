/**
 * The feature statistics' SQL on the other warehouses, over the same generated rows (three days,
 * the range the middle one): PostgreSQL executes it on a real server and every figure equals the
 * server's own aggregates (percentile_cont: exact); BigQuery's statements pass ZetaSQL's analyzer
 * (BigQuery's functions and types, the insert typed against the table's exact shape), and the
 * SELECT runs on ZetaSQL's reference engine, which has no APPROX_QUANTILES or
 * APPROX_COUNT_DISTINCT: there, a subclass puts exact equivalents in their place (the same
 * shape: one ordered array per column, picked by offset), and everything else equals ZetaSQL's
 * own aggregates; Snowflake's text is pinned by a golden file and sent as such through the real SDK to the
 * fake service.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ZetaSqlClient, type ZetaTable } from '../src/compiler/zetasql/client.js';
import { dialectFor } from '../src/dialects/index.js';
import { BigQueryDialect } from '../src/dialects/bigquery.js';
import { renderNewestStats, renderStatsSince, STATS_COLUMNS } from '../src/dialects/feature-stats.js';
import { renderFeatureStats, renderStatsSelect } from '../src/dialects/feature-stats.js';
import { recordFeatureStats } from '../src/offline/feature-stats.js';
import { QUANTILE_COLUMNS, QUANTILES, STATS_TABLE, type FeatureStatsPlan } from '../src/plans/feature-stats.js';
import type { RelationName } from '../src/plans/relation.js';
import { seededRandom } from '../src/seeded-random.js';
import { Timestamp, type Row } from '../src/values.js';
import { FakeSnowflake } from './fakes/snowflake-server.js';
import { matchGolden, splitGolden } from './helpers/golden-sql.js';
import { createTestDatabase, openPostgres, type TestDatabase } from './helpers/postgres.js';
import { REPO_ROOT } from './helpers/project.js';
import { openSf } from './helpers/snowflake.js';
import { ZETASQL_SKIP } from './helpers/zetasql.js';
import { join } from 'node:path';

const DAY = Timestamp.parse('2024-05-01T00:00:00Z')!;
const RANGE = { start: DAY.plusSeconds(86400), end: DAY.plusSeconds(2 * 86400) };
const NUMERIC = ['amount', 'qty'];

interface Event {
  user_id: string;
  event_ts: Timestamp;
  amount: number | null;
  qty: bigint | null;
  category: string | null;
  flag: boolean;
}

function events(n = 900): Event[] {
  const rand = seededRandom(7);
  return Array.from({ length: n }, (_, i) => ({
    user_id: `u${i % 31}`,
    event_ts: DAY.plusSeconds(Math.floor((i * 3 * 86400) / n)),
    amount: i % 17 === 0 ? null : Math.round(rand() * 1e6) / 100,
    qty: i % 11 === 0 ? null : BigInt(Math.floor(rand() * 20) - 5),
    category: i % 13 === 0 ? null : ['x', 'y', 'z', 'w'][Math.floor(rand() * 4)],
    flag: rand() < 0.3,
  }));
}

function plan(table: RelationName, statsTable: RelationName): FeatureStatsPlan {
  return {
    view: 'activity',
    table,
    timestamp: 'event_ts',
    range: RANGE,
    features: [
      { name: 'amount', kind: 'numeric' },
      { name: 'qty', kind: 'numeric' },
      { name: 'category', kind: 'string' },
      { name: 'flag', kind: 'other' },
    ],
    statsTable,
    runId: 'run-1',
    recordedAt: Timestamp.parse('2024-05-03T01:00:00Z')!,
  };
}

const inRange = (rows: Event[]) => rows.filter((r) => r.event_ts.micros >= RANGE.start.micros && r.event_ts.micros < RANGE.end.micros);
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
const close = (a: number | null, b: number | null, what: string) => assert.ok(a !== null && b !== null && Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
const byFeature = (rows: Row[]) => new Map(rows.map((r) => [String(r.feature), Object.fromEntries(Object.entries(r).map(([k, v]) => [k.toLowerCase(), v]))]));

/** Each quantile's rank among the range's values lies within `tolerance` of its fraction. */
function checkRanks(stats: Row, values: number[], feature: string, tolerance: number): void {
  QUANTILES.forEach((p, i) => {
    const q = num(stats[QUANTILE_COLUMNS[i]])!;
    const le = values.filter((v) => v <= q).length / values.length;
    const lt = values.filter((v) => v < q).length / values.length;
    assert.ok(le >= p - tolerance && lt <= p + tolerance, `${feature} ${QUANTILE_COLUMNS[i]} = ${q}: rank [${lt}, ${le}] vs ${p}`);
  });
}

describe('PostgreSQL: statistics equal the server\'s own aggregates', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('fsql_stats');
  });
  after(() => db?.drop());

  test('counts, moments, exact percentiles, distinct counts over the range', async () => {
    const wh = await openPostgres(db);
    try {
      const d = wh.dialect;
      const rows = events();
      await wh.execute([
        'create schema if not exists fsql',
        'create table fsql.activity (user_id text, event_ts timestamp, amount double precision, qty bigint, category text, flag boolean)',
        `insert into fsql.activity values ${rows.map((r) => `(${d.stringLiteral(r.user_id)}, ${d.timestampLiteral(r.event_ts)}, ${r.amount ?? 'null'}, ${r.qty ?? 'null'}, ${r.category === null ? 'null' : d.stringLiteral(r.category)}, ${r.flag})`).join(', ')}`,
      ]);
      const p = plan({ schema: 'fsql', name: 'activity' }, { schema: 'fsql', name: STATS_TABLE });
      assert.equal(await recordFeatureStats(wh, p, 'activity'), undefined);
      const got = byFeature(await wh.query(`select * from fsql.${STATS_TABLE}`));
      const where = `where event_ts >= ${d.timestampLiteral(RANGE.start)} and event_ts < ${d.timestampLiteral(RANGE.end)}`;
      for (const feature of ['amount', 'qty', 'category', 'flag']) {
        const s = got.get(feature)!;
        const [want] = await wh.query(`select count(*) as n, count(${feature}) as nn from fsql.activity ${where}`);
        assert.equal(num(s.row_count), num(want.n));
        close(num(s.null_fraction), 1 - Number(want.nn) / Number(want.n), `${feature} null_fraction`);
        if (NUMERIC.includes(feature)) {
          const x = `${feature}::float8`;
          const [m] = await wh.query(`select avg(${x}) as mean, stddev_samp(${x}) as sd, min(${x}) as mn, max(${x}) as mx, ${QUANTILES.map((q, i) => `percentile_cont(${q}) within group (order by ${x}) as q${i}`).join(', ')} from fsql.activity ${where}`);
          close(num(s.mean), num(m.mean), `${feature} mean`);
          close(num(s.stddev), num(m.sd), `${feature} stddev`);
          assert.equal(num(s.min), num(m.mn));
          assert.equal(num(s.max), num(m.mx));
          QUANTILE_COLUMNS.forEach((c, i) => close(num(s[c]), num(m[`q${i}`]), `${feature} ${c}`));
        } else {
          assert.equal(s.mean, null);
          assert.equal(s.p50, null);
        }
        if (feature === 'category') {
          const [{ d: distinct }] = await wh.query(`select count(distinct category) as d from fsql.activity ${where}`);
          assert.equal(num(s.approx_distinct), num(distinct));
        } else assert.equal(s.approx_distinct, null);
      }
      // a second run appends; the table keeps its shape
      await recordFeatureStats(wh, { ...p, runId: 'run-2' }, 'activity');
      const [{ n }] = await wh.query(`select count(*) as n from fsql.${STATS_TABLE}`);
      assert.equal(Number(n), 8);
      // what fsql monitor reads back
      const [newest] = await wh.query(renderNewestStats(d, p.statsTable, ['activity', 'other']));
      assert.equal((newest.newest as Timestamp).toISOString(), p.recordedAt.toISOString());
      const since = await wh.query(renderStatsSince(d, p.statsTable, 'activity', p.recordedAt));
      assert.deepEqual(since.map((r) => `${r.run_id} ${r.feature}`), ['run-1 amount', 'run-1 category', 'run-1 flag', 'run-1 qty', 'run-2 amount', 'run-2 category', 'run-2 flag', 'run-2 qty'].sort());
    } finally {
      await wh.close();
    }
  });
});

describe('BigQuery on ZetaSQL: statistics equal ZetaSQL\'s own aggregates', { skip: ZETASQL_SKIP }, () => {
  let zeta: ZetaSqlClient;
  before(async () => {
    zeta = await ZetaSqlClient.start();
  });
  after(() => zeta?.close());

  /** BigQuery with exact stand-ins for the two sketches the reference engine lacks. */
  class ExactSketches extends BigQueryDialect {
    quantileAggregates(expr: string): string[] {
      return [`array_agg(${expr} ignore nulls order by ${expr})`];
    }
    quantileAt(columns: string[], ps: readonly number[], i: number): string {
      return `${columns[0]}[safe_offset(cast(floor(${ps[i]} * (array_length(${columns[0]}) - 1)) as int64))]`;
    }
    approxDistinct(expr: string): string {
      return `count(distinct ${expr})`;
    }
  }
  const table = (rows: Event[]): ZetaTable => ({
    name: 'acme-ml.features.activity',
    columns: [
      { name: 'user_id', type: 'string' },
      { name: 'event_ts', type: 'timestamp' },
      { name: 'amount', type: 'float64' },
      { name: 'qty', type: 'int64' },
      { name: 'category', type: 'string' },
      { name: 'flag', type: 'boolean' },
    ],
    rows: rows.map((r) => [r.user_id, r.event_ts, r.amount, r.qty, r.category, r.flag]),
  });
  const p = plan({ database: 'acme-ml', schema: 'features', name: 'activity' }, { database: 'acme-ml', schema: 'features', name: STATS_TABLE });

  test('the statements analyze as BigQuery, the insert typed against the table', async () => {
    const statsTable: ZetaTable = {
      name: `acme-ml.features.${STATS_TABLE}`,
      columns: STATS_COLUMNS.map((name) => ({ name, type: /^(view_name|feature|run_id)$/.test(name) ? 'string' : /^(range_start|range_end|recorded_at)$/.test(name) ? 'timestamp' : /^(row_count|approx_distinct)$/.test(name) ? 'int64' : 'float64' })),
    };
    const bigquery = dialectFor('bigquery');
    const [create, insert] = renderFeatureStats(p, bigquery);
    assert.match(insert, /approx_quantiles\(cast\(`amount` as FLOAT64\), 100\) as `f0_q0`/i);
    assert.equal((await zeta.analyze(create, [table([])])).problem, undefined);
    const analysis = await zeta.analyze(insert, [table([]), statsTable]);
    assert.equal(analysis.problem, undefined, analysis.problem?.message);
    assert.equal(analysis.statements[0].kind, 'resolved_insert_stmt_node');
    for (const read of [renderNewestStats(bigquery, p.statsTable, ['activity']), renderStatsSince(bigquery, p.statsTable, 'activity', p.recordedAt)]) {
      assert.equal((await zeta.analyze(read, [statsTable])).problem, undefined, read);
    }
  });

  test('the SELECT on the reference engine: counts and moments equal its own aggregates, quantiles and distinct counts those of the rows', async () => {
    const rows = events();
    const got = byFeature((await zeta.evaluate(renderStatsSelect(p, new ExactSketches()), [table(rows)])).rows as Row[]);
    const kept = inRange(rows);
    const bigquery = dialectFor('bigquery');
    const where = `where event_ts >= ${bigquery.timestampLiteral(RANGE.start)} and event_ts < ${bigquery.timestampLiteral(RANGE.end)}`;
    for (const feature of ['amount', 'qty', 'category', 'flag']) {
      const s = got.get(feature)!;
      assert.equal(String(s.view_name), 'activity');
      assert.equal((s.range_start as Timestamp).toISOString(), RANGE.start.toISOString());
      const x = `cast(${feature} as float64)`;
      const moments = NUMERIC.includes(feature) ? `, avg(${x}) as mean, stddev_samp(${x}) as sd, min(${x}) as mn, max(${x}) as mx` : '';
      const [want] = (await zeta.evaluate(`select count(*) as n, count(${feature}) as nn${moments} from \`acme-ml.features.activity\` ${where}`, [table(rows)])).rows as Row[];
      assert.equal(num(s.row_count), kept.length);
      assert.equal(num(want.n), kept.length);
      close(num(s.null_fraction), 1 - Number(want.nn) / Number(want.n), `${feature} null_fraction`);
      if (NUMERIC.includes(feature)) {
        close(num(s.mean), num(want.mean), `${feature} mean`);
        close(num(s.stddev), num(want.sd), `${feature} stddev`);
        assert.equal(num(s.min), num(want.mn));
        assert.equal(num(s.max), num(want.mx));
        const values = kept.map((r) => r[feature as 'amount' | 'qty']).filter((v) => v !== null).map(Number);
        checkRanks(s, values, feature, 0.01);
      } else assert.equal(s.p01, null);
      if (feature === 'category') assert.equal(num(s.approx_distinct), new Set(kept.map((r) => r.category).filter((c) => c !== null)).size);
      else assert.equal(s.approx_distinct, null);
    }
  });
});

describe('Snowflake: golden statements, sent through the SDK', () => {
  const p = plan({ database: 'ANALYTICS', schema: 'FEATURES', name: 'activity' }, { database: 'ANALYTICS', schema: 'FEATURES', name: STATS_TABLE });
  const golden = join(REPO_ROOT, 'test', 'golden');

  test('the statements equal the golden file, and the fake service receives exactly them', async () => {
    const statements = renderFeatureStats(p, dialectFor('snowflake'));
    matchGolden(golden, 'snowflake/feature-stats.sql', statements.map((s) => `${s};`).join('\n') + '\n');
    const fake = await FakeSnowflake.start();
    try {
      const wh = await openSf(fake);
      try {
        assert.equal(await recordFeatureStats(wh, p, 'activity'), undefined);
      } finally {
        await wh.close();
      }
      const sent = fake.statements().filter((q) => /"FSQL_FEATURE_STATS"/.test(q)).map((q) => q.trimEnd());
      assert.deepEqual(sent, splitGolden(statements.map((s) => `${s};`).join('\n') + '\n'));
    } finally {
      await fake.stop();
    }
  });
});
