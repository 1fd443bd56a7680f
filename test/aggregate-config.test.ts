/** Aggregate views' config (SPEC section 9): both forms, feature names, and errors naming file and line. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileProject } from '../src/compiler/compile.js';
import { loadProject } from '../src/project/load.js';
import { fsql, makeProject } from './helpers/project.js';
import { aggregateView, mini } from './helpers/mini.js';

const AGG_VIEW = (aggregations: string, extra = '') => aggregateView(aggregations, "select user_id, ts, amount, merchant from {{ source('raw', 'payments') }}", extra);

const GOOD = `      agg('*', 'count', windows=['1h', '1d']),
      agg('amount', ['sum', 'avg', 'stddev_samp'], windows=['1h', 'lifetime']),
      agg('merchant', 'count_distinct', windows=['30d']),
      agg('amount', 'last_n', n=5, windows=['7d'], name='last_5_amounts')`;

const CSV = 'user_id,amount,merchant,ts\nu1,10,m1,2024-01-01 00:00:00\n';

function load(files: Record<string, string>) {
  return loadProject({ projectDir: makeProject(mini({ 'data/payments.csv': CSV, ...files })) });
}

test('config(): feature names, windows, functions, default TTL; the manifest describes each feature', async () => {
  const project = load({ 'models/stats.sql': AGG_VIEW(GOOD) });
  const view = project.views.get('stats')!;
  assert.equal(view.config.materialized, 'aggregate');
  assert.equal(view.config.aggregate!.tileSeconds, 3600);
  assert.deepEqual(
    view.config.aggregate!.features.map((f) => f.name),
    ['count_1h', 'count_1d', 'amount_sum_1h', 'amount_sum_lifetime', 'amount_avg_1h', 'amount_avg_lifetime', 'amount_stddev_samp_1h', 'amount_stddev_samp_lifetime', 'merchant_count_distinct_30d', 'last_5_amounts'],
  );
  assert.equal(view.config.ttlSeconds, undefined, 'a lifetime window: no default TTL');
  const c = await compileProject(project);
  const v = c.manifest.views.stats;
  assert.deepEqual(v.features, view.config.aggregate!.features.map((f) => f.name));
  assert.deepEqual(v.aggregations!.find((a) => a.name === 'last_5_amounts'), { name: 'last_5_amounts', function: 'last_n', column: 'amount', window: '7d', window_seconds: 604800, n: 5 });
  assert.deepEqual(v.aggregations!.find((a) => a.name === 'count_1d'), { name: 'count_1d', function: 'count', column: '*', window: '1d', window_seconds: 86400 });
});

test('the default TTL is the longest window; name= with {window}', () => {
  const project = load({ 'models/stats.sql': AGG_VIEW(`      agg('amount', 'max', windows=['1h', '2d'], name='top_{window}')`) });
  const view = project.views.get('stats')!;
  assert.equal(view.config.ttlSeconds, 172800);
  assert.deepEqual(view.config.aggregate!.features.map((f) => f.name), ['top_1h', 'top_2d']);
});

test('the YAML form declares the same view', () => {
  const yml = `feature_views:
  - name: stats
    materialized: aggregate
    tile: 30m
    aggregations:
      - {column: '*', function: count, windows: [1h]}
      - {column: amount, functions: [min, first_n], n: 2, windows: [1d], name: 'a_{window}'}
`;
  assert.throws(() => load({ 'models/stats.sql': "{{ config(materialized='aggregate', entities=['user'], timestamp='ts') }}\nselect user_id, ts, amount from {{ source('raw', 'payments') }}\n", 'models/views.yml': yml }), /views\.yml:7: feature view 'stats': name='a_\{window\}' cannot name 2 functions/);
  const project = load({
    'models/stats.sql': "{{ config(materialized='aggregate', entities=['user'], timestamp='ts') }}\nselect user_id, ts, amount from {{ source('raw', 'payments') }}\n",
    'models/views.yml': yml.replace("functions: [min, first_n], n: 2, windows: [1d], name: 'a_{window}'", 'function: first_n, n: 2, windows: [1d]'),
  });
  const spec = project.views.get('stats')!.config.aggregate!;
  assert.equal(spec.tileSeconds, 1800);
  assert.deepEqual(spec.features.map((f) => [f.name, f.function, f.n]), [['count_1h', 'count', undefined], ['amount_first_n_1d', 'first_n', 2]]);
  // approx_count_distinct is accepted, named and typed as itself (computed exactly: aggregate-differential)
  const approx = load({ 'models/stats.sql': AGG_VIEW(`      agg('merchant', 'approx_count_distinct', windows=['1h'])`) }).views.get('stats')!.config.aggregate!;
  assert.deepEqual(approx.features.map((f) => [f.name, f.function]), [['merchant_approx_count_distinct_1h', 'approx_count_distinct']]);
});

test('errors name the file and the line of the agg() at fault, and what to do', () => {
  const cases: [string, RegExp][] = [
    [`      agg('*', 'count', windows=['1h']),\n      agg('amount', 'median', windows=['1h'])`, /stats\.sql:8: config aggregations: unknown aggregation function 'median'\. Functions: count, sum/],
    [`      agg('amount', 'sum', windows=['1h', '1d'], name='spend')`, /stats\.sql:7: .*put \{window\} in it, such as 'spend_\{window\}'/],
    [`      agg('amount', 'last_n', windows=['1h'])`, /stats\.sql:7: .*last_n needs n=<whole number from 1 to 1000>/],
    [`      agg('amount', 'sum', n=3, windows=['1h'])`, /n= is for first_n and last_n, not sum/],
    [`      agg('*', 'sum', windows=['1h'])`, /'\*' counts rows: only count takes it, not sum/],
    [`      agg('amount', 'sum', windows=['1x'])`, /window '1x' must be 'lifetime' or a duration/],
    [`      agg('amount', 'sum', windows=['1h', '60m'])`, /window '60m' is listed twice/],
    [`      agg('amount', 'sum', windows=['1h']),\n      agg('amount', 'sum', windows=['1h'])`, /two aggregations make the feature 'amount_sum_1h'; give one of them another name=/],
    [`      agg('amount', 'sum')`, /needs windows=/],
    [`      agg('amount', 'sum', windows=['1.5s'])`, /the feature name 'amount_sum_1\.5s' is not a column name.*give name=/],
  ];
  for (const [aggs, pattern] of cases) assert.throws(() => load({ 'models/stats.sql': AGG_VIEW(aggs) }), pattern, aggs);
  assert.throws(() => load({ 'models/stats.sql': AGG_VIEW(GOOD, "\n    tile='0s',") }), /stats\.sql:1: config aggregations: 'tile' must be/);
  assert.throws(() => load({ 'models/stats.sql': AGG_VIEW(GOOD, "\n    sync_horizon='soon',") }), /stats\.sql:1: config aggregations: 'sync_horizon' must be a duration such as/);
  assert.equal(load({ 'models/stats.sql': AGG_VIEW(GOOD, "\n    sync_horizon='6h',") }).views.get('stats')!.config.aggregate!.syncHorizonSeconds, 21600);
  assert.equal(load({ 'models/stats.sql': AGG_VIEW(GOOD) }).views.get('stats')!.config.aggregate!.syncHorizonSeconds, 86400, 'default 1d');
  assert.throws(() => load({ 'models/stats.sql': "{{ config(entities=['user'], timestamp='ts', sync_horizon='1h') }}\nselect 1" }), /stats\.sql:1: config 'sync_horizon' is for aggregate views/);
  assert.throws(() => load({ 'models/stats.sql': AGG_VIEW(GOOD, "\n    created_timestamp='ts',") }), /created_timestamp' does not apply to an aggregate view/);
  assert.throws(() => load({ 'models/stats.sql': "{{ config(entities=['user'], timestamp='ts', tile='1h') }}\nselect 1" }), /stats\.sql:1: config 'tile' is for aggregate views; add materialized='aggregate'/);
  assert.throws(() => load({ 'models/stats.sql': "{{ config(materialized='aggregate', entities=['user'], timestamp='ts') }}\nselect 1" }), /stats\.sql:1: aggregate view 'stats' has no aggregations/);
  assert.throws(() => load({ 'models/stats.sql': "{{ config(materialized='aggregate', entities=['user'], timestamp='ts', tile='1h') }}\nselect 1" }), /stats\.sql:1: config 'tile' goes with the aggregations/);
});

test("compile: the SELECT must project the keys, the event time and every input column (exit 1)", () => {
  const dir = makeProject(mini({ 'data/payments.csv': CSV, 'models/stats.sql': AGG_VIEW(GOOD).replace(', merchant from', ' from') }));
  const r = fsql(['--project-dir', dir, 'compile']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /stats\.sql: the aggregate view's SELECT lacks 'merchant'/);
  const ok = makeProject(mini({ 'data/payments.csv': CSV, 'models/stats.sql': AGG_VIEW(GOOD) }));
  const ls = fsql(['--project-dir', ok, 'ls', '--select', 'stats']);
  assert.equal(ls.code, 0, ls.stderr);
  assert.match(ls.stdout, /feature_view:stats\n {2}count_1h: count\(\*\) over 1h\n/);
  assert.match(ls.stdout, / {2}last_5_amounts: last_n\(5\)\(amount\) over 7d\n/);
});
