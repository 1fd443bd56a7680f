/**
 * On-demand views and request sources in a project (SPEC section 10): loading, the manifest, and
 * compile errors at the file, line and column of the name, function or type at fault.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileProject } from '../src/compiler/compile.js';
import { loadProject } from '../src/project/load.js';
import { onDemandExample } from './helpers/on-demand-project.js';

const HEADER = "{{ config(materialized='on_demand', inputs=['txn_request', 'user_transaction_stats']) }}\nselect\n";

async function compileError(body: string): Promise<string> {
  const dir = onDemandExample(HEADER + body);
  try {
    await compileProject(loadProject({ projectDir: dir }));
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('compiled without an error');
}

test('the manifest describes the on-demand view: inputs, request fields, stored inputs, outputs and the types known at compile time', async () => {
  const { manifest } = await compileProject(loadProject({ projectDir: onDemandExample() }));
  const v = manifest.on_demand_views.txn_vs_history;
  assert.deepEqual(v.inputs, ['txn_request', 'user_transaction_stats']);
  assert.deepEqual(v.request_fields.map((f) => `${f.name}:${f.type}`), ['amount:float64', 'merchant_category:string', 'card_present:boolean']);
  assert.deepEqual(v.stored_inputs, [{ view: 'user_transaction_stats', feature: 'avg_amount_7d' }, { view: 'user_transaction_stats', feature: 'max_amount_7d' }]);
  assert.deepEqual(v.types, { amount_vs_avg_7d: null, exceeds_3x_max_7d: null, risky_category: 'int64', category_card: 'string' });
  assert.deepEqual(manifest.services.fraud_detection.features.at(-1), { view: 'txn_vs_history', features: ['amount_vs_avg_7d', 'exceeds_3x_max_7d', 'risky_category', 'category_card'] });
  assert.deepEqual(manifest.request_sources.txn_request.fields.map((f) => f.name), ['amount', 'merchant_category', 'card_present']);
  assert.equal(manifest.views.txn_vs_history, undefined, 'an on-demand view has no table');
});

test('compile errors name the file, line and column, and what to do', async () => {
  const file = 'models/ondemand/txn_vs_history.sql';
  assert.equal(await compileError('  amount as a,\n  amont + 1 as b'), `${file}:4: column 3: unknown name 'amont'. Did you mean 'amount'? Request fields of the inputs: amount, merchant_category, card_present; a stored feature is written <view>.<feature>.`);
  assert.match(await compileError('  sqrtt(amount) as a'), /^models\/ondemand\/txn_vs_history\.sql:3: column 3: unknown function 'sqrtt'\. Did you mean 'sqrt'\?/);
  assert.match(await compileError('  1 as a,\n    user_transaction_stats.nope as b'), /:4: column 5: feature view 'user_transaction_stats' has no feature 'nope'\. Features: txn_count_1h/);
  assert.match(await compileError("  amount + 'x' as a"), /:3: column 12: '\+' takes numbers, not string \('x'\)\./);
  assert.match(await compileError('  merchant_category || 1 as a'), /:3: column 24: \|\| needs string here, but 1 is int64/);
  assert.match(await compileError('  amount as a,\n  amount as A'), /:4: column 3: output 'A' is named twice/);
  assert.match(await compileError('  amount as a from t'), /:3: column 15: an on-demand view has no FROM/);
  assert.match(await compileError('  amount + as a'), /:3: column 12: expected an expression, found the keyword 'as'\./);
  assert.match(await compileError('  substr(merchant_category) as a'), /:3: column 3: substr\(\) takes 2 or 3 arguments, not 1\./);
  assert.match(await compileError("  cast(amount as string) as a"), /:3: column 3: CAST from float64 to string is not in the language/);
  assert.match(await compileError("  'abc as a"), /:3: column 3: a string ' is never closed/);
  assert.match(await compileError('  9223372036854775808 as a'), /:3: column 3: integer 9223372036854775808 does not fit in int64/);
  assert.match(await compileError('  null as a'), /:3: column 3: cannot tell the type of 'a'/);
});

test('inputs must be request sources or stored views; config keys and request field types are checked', () => {
  const dir = onDemandExample("{{ config(materialized='on_demand', inputs=['txn_requests']) }}\nselect 1 as one\n");
  assert.throws(() => loadProject({ projectDir: dir }), /models\/ondemand\/txn_vs_history\.sql:1: config inputs: no request source or feature view is named 'txn_requests'\. Did you mean 'txn_request'\?/);
  writeFileSync(join(dir, 'models', 'ondemand', 'txn_vs_history.sql'), "{{ config(materialized='on_demand', inputs=['txn_request'], ttl='1d') }}\nselect 1 as one\n");
  assert.throws(() => loadProject({ projectDir: dir }), /:1: config has key 'ttl', which an on-demand view does not take/);
  writeFileSync(join(dir, 'models', 'ondemand', 'txn_vs_history.sql'), "{{ config(materialized='on_demand', inputs=['txn_request']) }}\nselect 1 as one\n");
  loadProject({ projectDir: dir });
  writeFileSync(join(dir, 'models', 'requests.yml'), 'request_sources:\n  - name: txn_request\n    schema: {amount: decimal}\n');
  assert.throws(() => loadProject({ projectDir: dir }), /models\/requests\.yml:3: request field 'amount' has type 'decimal'; types: int64, float64, string, boolean, timestamp\./);
});
