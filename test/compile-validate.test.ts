/** `fsql compile --validate` on DuckDB: EXPLAIN binds every name without running the views. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { copyExample, fsql } from './helpers/project.js';

test('compile --validate on DuckDB checks each view with EXPLAIN and names the file of a view that does not bind', () => {
  const dir = copyExample({ handWrittenWindows: true });
  const ok = fsql(['--project-dir', dir, 'compile', '--validate']);
  assert.equal(ok.code, 0, ok.stderr);
  for (const view of ['merchant_risk', 'user_merchant_pair', 'user_transaction_stats']) assert.match(ok.stderr, new RegExp(`OK {3}${view} \\(EXPLAIN\\)`));
  assert.match(ok.stderr, /Validated 3 views on dev \(duckdb\): PASS=3 ERROR=0\n/);

  const file = join(dir, 'models', 'pair', 'user_merchant_pair.sql');
  writeFileSync(file, readFileSync(file, 'utf8').replace('sum(amount)', 'sum(amount_typo)'));
  const bad = fsql(['--project-dir', dir, 'compile', '--validate']);
  assert.equal(bad.code, 1);
  // DuckDB views are bound at compile already, before any EXPLAIN
  assert.match(bad.stderr, /models\/pair\/user_merchant_pair\.sql:14: DuckDB cannot bind the SELECT: .*amount_typo/);
});
