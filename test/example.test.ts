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
  assert.deepEqual(stats.columns.slice(0, 3), [
    { name: 'user_id', type: 'string' },
    { name: 'event_ts', type: 'timestamp' },
    { name: 'txn_count_1h', type: 'int64' },
  ]);
});
