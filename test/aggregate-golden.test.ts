/**
 * The SQL of an aggregate view in every dialect — the full build, an incremental run, the training
 * query, the sync query — pinned by golden files under test/golden/aggregate/ (UPDATE_GOLDEN=1 rewrites them).
 * DuckDB, PostgreSQL and BigQuery (on ZetaSQL) are executed against the reference elsewhere
 * (aggregate-differential, aggregate-bigquery); Snowflake cannot run here, so its text is pinned
 * and parsed with node-sql-parser's Snowflake grammar.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseForeign } from '../src/compiler/foreign-parse.js';
import { renderAggregateSync } from '../src/dialects/aggregate-online.js';
import { renderFullBuild, renderIncrementalRun } from '../src/dialects/aggregate-tiles.js';
import { dialectFor } from '../src/dialects/index.js';
import { renderPointInTime } from '../src/dialects/point-in-time.js';
import { featureType, inputColumns, perTileRelations, tileTables, type AggregateRunPlan } from '../src/plans/aggregate.js';
import { stateShape } from '../src/plans/aggregate-online.js';
import type { PointInTimePlan } from '../src/plans/point-in-time.js';
import { parseViewConfig, splitConfig } from '../src/project/view-config.js';
import type { WarehouseType } from '../src/project/types.js';
import { Timestamp } from '../src/values.js';
import { REPO_ROOT } from './helpers/project.js';
import { matchGolden as matchGoldenFile, splitGolden } from './helpers/golden-sql.js';
import { aggregateView } from './helpers/mini.js';

const GOLDEN = join(REPO_ROOT, 'test', 'golden', 'aggregate');

const VIEW = aggregateView(
  `      agg('*', 'count', windows=['1h']),
      agg('amount', ['sum', 'stddev_samp', 'max', 'first'], windows=['1h', '7d']),
      agg('merchant_id', 'count_distinct', windows=['30d']),
      agg('amount', 'last_n', n=5, windows=['7d'], name='last_5_amounts'),
      agg('amount', 'avg', windows=['lifetime'])`,
  "select user_id, ts, amount, merchant_id from {{ source('raw', 'transactions') }}",
);

const matchGolden = (path: string, text: string) => matchGoldenFile(GOLDEN, path, text);

function render(type: WarehouseType): string {
  const d = dialectFor(type);
  const { call, line } = splitConfig('models/user_spend.sql', VIEW);
  const spec = parseViewConfig('models/user_spend.sql', call, line, {}).aggregate!;
  const table = d.tableIn({ database: 'acme', schema: 'features' }, 'user_spend');
  const run = (range?: AggregateRunPlan['range']): AggregateRunPlan => ({
    view: 'user_spend',
    spec,
    tables: tileTables(spec, table),
    keys: ['user_id'],
    timestamp: 'ts',
    select: `select user_id, ts, amount, merchant_id from ${d.relation(d.tableIn({ database: 'acme', schema: 'raw' }, 'transactions'))}`,
    range,
  });
  const full = renderFullBuild(run(), [], d);
  const inc = renderIncrementalRun(run({ start: Timestamp.parse('2024-04-01T00:30:00Z')! }), d);
  const types = { amount: 'float64', merchant_id: 'string' } as const;
  const train: PointInTimePlan = {
    service: 'fraud',
    events: { table: d.tableIn({ database: 'acme', schema: 'features' }, 'fsql_events'), columns: ['user_id', 'event_timestamp'], timestamp: 'event_timestamp', orderColumn: d.insertionOrderColumn },
    views: [
      {
        view: 'user_spend',
        table,
        keys: [{ column: 'user_id', event: 'user_id' }],
        timestamp: 'ts',
        features: spec.features.map((f) => ({ column: f.name, output: `user_spend__${f.name}`, type: featureType(f, f.column === '*' ? undefined : types[f.column as keyof typeof types]).type })),
        allFeatures: spec.features.map((f) => f.name),
        aggregate: { spec, tables: tileTables(spec, table) },
      },
    ],
    eventTimes: 'dynamic',
  };
  const sync = renderAggregateSync(
    {
      view: 'user_spend',
      events: table,
      keys: ['user_id'],
      timestamp: 'ts',
      shape: stateShape(spec.features),
      inputTypes: inputColumns(spec).map((c) => types[c as keyof typeof types]),
      at: Timestamp.parse('2024-04-01T00:30:00Z')!,
      horizonSeconds: spec.syncHorizonSeconds,
    },
    d,
  );
  const script = (s: { statements: string[]; atomic: boolean }) => (s.atomic ? d.transactionScript(s.statements) : s.statements.map((x) => `${x};`).join('\n'));
  // a full build over the tables of an earlier one
  const rebuilt = renderFullBuild(run(), perTileRelations(run().tables).map((relation) => ({ relation, perRow: false })), d);
  return [
    `-- full build: the per-tile relations found dropped, the events written`,
    script({ statements: rebuilt.before, atomic: false }),
    `-- how many rows fill how many (keys, tile): the full build's choice of per-tile tables or per-row views`,
    `${full.density};`,
    `-- per-tile tables`,
    script({ statements: full.perTile(false), atomic: false }),
    `-- or per-row views`,
    script({ statements: full.perTile(true), atomic: false }),
    `-- incremental run from 2024-04-01 00:30:00`,
    script(inc),
    `-- training query`, `${renderPointInTime(train, d)};`, `-- sync query at 2024-04-01 00:30:00`, `${sync};`, ''].join('\n');
}

for (const type of ['duckdb', 'postgres', 'bigquery', 'snowflake'] as const) {
  test(`${type}: an aggregate view's run and training SQL match the golden file`, () => {
    matchGolden(`${type}.sql`, render(type));
  });
}

test("Snowflake: every statement parses with node-sql-parser's Snowflake grammar", () => {
  // Its Snowflake grammar has no DELETE nor DROP (nor BEGIN/COMMIT): those simple statements are pinned by the golden file only.
  const statements = splitGolden(render('snowflake')).filter((s) => !/^(begin transaction|commit|delete from .*|drop (table|view) if exists .*)$/.test(s));
  assert.ok(statements.length >= 9, `${statements.length} statements`);
  for (const s of statements) {
    // node-sql-parser does not know WITHIN GROUP; ARRAY_AGG(x) WITHIN GROUP (ORDER BY ...) is Snowflake's documented form.
    const parseable = s.replace(/ within group \(order by [^)]*\)/g, '');
    const r = parseForeign(parseable, 'snowflake');
    assert.equal(r.error, undefined, `${r.error?.message}\n${s}`);
  }
});
