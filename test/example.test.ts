import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { copyExample, fsql } from './helpers/project.js';

test('the example project compiles for all three targets and runs end to end on DuckDB', () => {
  const dir = copyExample();
  for (const target of ['dev', 'prod', 'sf']) {
    const r = fsql(['--project-dir', dir, '--target', target, 'compile']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(join(dir, 'target', 'compiled', target, 'models', 'user', 'user_transaction_stats.sql')));
  }
  const run = fsql(['--project-dir', dir, 'run']);
  assert.equal(run.code, 0, run.stderr);
  const results = JSON.parse(readFileSync(join(dir, 'target', 'run_results.json'), 'utf8'));
  assert.deepEqual(results.results.map((r: { status: string }) => r.status), ['success', 'success', 'success']);
  const stats = results.results.find((r: { name: string }) => r.name === 'user_transaction_stats');
  // an aggregate view keeps its events (and tiles beside them); its features are windows computed at the moment of use
  assert.deepEqual(stats.columns.slice(0, 4), [
    { name: 'user_id', type: 'string' },
    { name: 'ts', type: 'timestamp' },
    { name: 'amount', type: 'float64' },
    { name: 'is_large', type: 'int64' },
  ]);
});

test('ls lists views, sources and services; --vars overrides project vars; json logs are JSON lines', () => {
  const dir = copyExample();
  const ls = fsql(['--project-dir', dir, 'ls']);
  assert.equal(ls.code, 0, ls.stderr);
  assert.deepEqual(ls.stdout.trim().split('\n'), [
    'feature_view:merchant_risk',
    'feature_view:user_merchant_pair',
    '  pair_txn_count_30d: count(*) over 30d',
    '  pair_spend_30d: sum(amount) over 30d',
    'feature_view:user_transaction_stats',
    '  txn_count_1h: count(*) over 1h',
    '  txn_count_1d: count(*) over 1d',
    '  txn_count_7d: count(*) over 7d',
    '  spend_1h: sum(amount) over 1h',
    '  spend_1d: sum(amount) over 1d',
    '  spend_7d: sum(amount) over 7d',
    '  avg_amount_7d: avg(amount) over 7d',
    '  max_amount_7d: max(amount) over 7d',
    '  large_txn_count_1d: sum(is_large) over 1d',
    'on_demand_view:txn_vs_history',
    'request_source:txn_request',
    'source:raw.transactions',
    'feature_service:fraud_detection',
    'feature_service:fraud_scoring',
  ]);
  const json = fsql(['--project-dir', dir, 'ls', '--select', 'tag:user', '--output', 'json']);
  const views = json.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(views.map((v) => [v.name, v.materialized, v.ttl_seconds, v.join_keys]), [['user_transaction_stats', 'aggregate', 604800, ['user_id']]]);
  const c = fsql(['--project-dir', dir, '--vars', '{large_amount: 123}', '--log-format', 'json', 'compile']);
  assert.equal(c.code, 0, c.stderr);
  assert.match(readFileSync(join(dir, 'target', 'compiled', 'dev', 'models', 'user', 'user_transaction_stats.sql'), 'utf8'), /when amount >= 123 then/);
  const line = JSON.parse(c.stderr.trim().split('\n').pop()!);
  assert.equal(line.level, 'info');
  assert.match(line.msg, /^Compiled 3 feature views for dev \(duckdb\)/);
});
