/** Compiled SQL per dialect pinned by golden files; BigQuery/Snowflake SQL parsed by node-sql-parser. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { compileProject } from '../src/compiler/compile.js';
import { parseForeign } from '../src/compiler/foreign-parse.js';
import { loadProject } from '../src/project/load.js';
import { copyExample, fsql, REPO_ROOT } from './helpers/project.js';

const GOLDEN = join(REPO_ROOT, 'test', 'golden', 'compile');

for (const target of ['dev', 'prod', 'sf']) {
  test(`example project compiled for target ${target} matches the golden SQL`, async () => {
    const project = loadProject({ projectDir: REPO_ROOT, target });
    const { manifest, warnings } = await compileProject(project);
    assert.deepEqual(warnings, []);
    for (const view of Object.values(manifest.views)) {
      // DuckDB reads source files by absolute path; the golden holds it relative to the project
      const sql = view.compiled_sql.split(`${project.dir}/`).join('');
      const golden = join(GOLDEN, project.target.type, `${view.name}.sql`);
      if (process.env.UPDATE_GOLDEN) {
        mkdirSync(dirname(golden), { recursive: true });
        writeFileSync(golden, sql);
      }
      assert.ok(existsSync(golden), `missing golden file ${golden}; run with UPDATE_GOLDEN=1`);
      assert.equal(sql, readFileSync(golden, 'utf8'), `${view.name} for ${target} differs from ${golden}`);
      if (project.target.type !== 'duckdb') {
        assert.equal(parseForeign(sql, project.target.type).error, undefined, `${view.name} does not parse as ${project.target.type}`);
      }
    }
  });
}

test('compile needs no warehouse connection and writes the manifest with columns, features and dependencies', () => {
  const dir = copyExample();
  const r = fsql(['--project-dir', dir, '--target', 'prod', 'compile'], { env: { GOOGLE_APPLICATION_CREDENTIALS: '' } });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!existsSync(join(dir, 'target', 'dev.duckdb')));
  const manifest = JSON.parse(readFileSync(join(dir, 'target', 'manifest.json'), 'utf8'));
  assert.equal(manifest.metadata.dialect, 'bigquery');
  const risk = manifest.views.merchant_risk;
  assert.equal(risk.relation, '`acme-ml.features.merchant_risk`');
  assert.deepEqual(risk.join_keys, ['merchant_id']);
  assert.deepEqual(risk.features, ['txn_count_30d', 'volume_30d', 'chargeback_rate', 'risk_score']);
  assert.deepEqual(risk.depends_on, { views: [], sources: ['raw.transactions'] });
  assert.equal(risk.config.ttlSeconds, 3 * 86400);
  assert.deepEqual(manifest.services.fraud_detection.features[1], { view: 'merchant_risk', features: ['risk_score', 'chargeback_rate'] });
});

test('--strict turns node-sql-parser complaints into errors naming the view file', () => {
  const dir = copyExample({ handWrittenWindows: true });
  writeFileSync(
    join(dir, 'models', 'pair', 'user_merchant_pair.sql'),
    readFileSync(join(dir, 'models', 'pair', 'user_merchant_pair.sql'), 'utf8').replace('select distinct', 'select distinct\n  last_value(amount ignore nulls) over (partition by user_id order by ts) as last_amount,'),
  );
  const loose = fsql(['--project-dir', dir, '--target', 'sf', 'compile']);
  assert.equal(loose.code, 0, loose.stderr);
  assert.match(loose.stderr, /warn: models\/pair\/user_merchant_pair\.sql(:\d+)?: node-sql-parser \(snowflake\) cannot parse/);
  const strict = fsql(['--project-dir', dir, '--target', 'sf', 'compile', '--strict']);
  assert.equal(strict.code, 1);
  assert.match(strict.stderr, /error: models\/pair\/user_merchant_pair\.sql(:\d+)?: node-sql-parser \(snowflake\) cannot parse.*--strict/);
});
