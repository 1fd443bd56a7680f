/**
 * The training-table SQL of every dialect and strategy, pinned by golden files under
 * test/golden/pit/ (UPDATE_GOLDEN=1 rewrites them). BigQuery and Snowflake SQL is parsed with
 * node-sql-parser after rewriting the constructs it does not know, which were checked against the
 * warehouses' references by hand instead (see test/golden/pit/README.md).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { compileProject } from '../src/compiler/compile.js';
import { parseForeign } from '../src/compiler/foreign-parse.js';
import type { PitStrategy } from '../src/dialects/dialect.js';
import { renderPointInTime } from '../src/dialects/point-in-time.js';
import { planPointInTime } from '../src/plans/point-in-time.js';
import { loadProject } from '../src/project/load.js';
import { Timestamp } from '../src/values.js';
import { fsql, REPO_ROOT } from './helpers/project.js';
import { matchGolden as matchGoldenFile } from './helpers/golden-sql.js';
import { trainProject } from './helpers/train-project.js';

const GOLDEN = join(REPO_ROOT, 'test', 'golden', 'pit');

const matchGolden = (path: string, text: string) => matchGoldenFile(GOLDEN, path, text);

/**
 * What node-sql-parser cannot read, rewritten to what it can, each rewrite required to apply:
 * BigQuery `LAST_VALUE(x IGNORE NULLS)`, Snowflake `ASOF JOIN ... MATCH_CONDITION (c) ON k`, and
 * `DROP TABLE IF EXISTS` in both.
 */
function parseable(sql: string, dialect: 'bigquery' | 'snowflake'): string {
  const rewrite = (s: string, re: RegExp, by: string) => {
    assert.match(s, re, `expected ${re} in the ${dialect} SQL`);
    return s.replace(re, by);
  };
  if (dialect === 'bigquery' && /last_value/.test(sql)) sql = rewrite(sql, / ignore nulls\)/g, ')');
  if (dialect === 'snowflake' && /asof join/.test(sql)) {
    sql = rewrite(sql, /asof join \(/g, 'left join (');
    sql = rewrite(sql, /\) as (f\d+)\n {2}match_condition \(([^\n]*)\)\n {2}on /g, ') as $1\n  on $2 and ');
  }
  if (/^drop table if exists/.test(sql)) sql = rewrite(sql, /^drop table if exists/, 'drop table');
  return sql;
}

const PLANS: [target: string, strategy: PitStrategy][] = [
  ['dev', 'asof'],
  ['dev', 'window'],
  ['dev', 'lateral'],
  ['prod', 'window'],
  ['sf', 'asof'],
  ['pg', 'lateral'],
];

for (const [target, strategy] of PLANS) {
  test(`the ${strategy} training query for target ${target} matches its golden file`, async () => {
    const project = loadProject({ projectDir: trainProject(), target });
    const c = await compileProject(project);
    const d = c.renderer.dialect;
    const plan = planPointInTime({
      manifest: c.manifest,
      service: 'training',
      events: { table: d.tableIn(project.target, 'fsql_events_golden'), columns: ['event_id', 'user_id', 'merchant_id', 'event_timestamp'], timestamp: 'event_timestamp', orderColumn: d.insertionOrderColumn },
      eventTimes: { min: Timestamp.parse('2024-03-01T09:00:00Z')!, max: Timestamp.parse('2024-03-01T12:00:00.5Z')! },
    });
    const sql = renderPointInTime(plan, d, { strategy });
    matchGolden(`${d.name}/${strategy}.sql`, `${sql}\n`);
    // PostgreSQL's SQL is executed on a real server instead (train-differential, postgres-example).
    if (d.name === 'bigquery' || d.name === 'snowflake') assert.equal(parseForeign(parseable(sql, d.name), d.name).error, undefined);
  });
}

for (const target of ['dev', 'prod', 'sf', 'pg']) {
  test(`train --dry-run prints every statement for target ${target}, connecting to nothing`, () => {
    const dir = trainProject();
    const r = fsql(['--project-dir', dir, '--target', target, 'train', '--service', 'training', '--events', 'table:events', '--out', 'table:training_set', '--dry-run'], { env: { GOOGLE_APPLICATION_CREDENTIALS: '' } });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!existsSync(join(dir, 'target', 'dev.duckdb')), 'a dry run opened the DuckDB file');
    const type = ({ dev: 'duckdb', prod: 'bigquery', sf: 'snowflake', pg: 'postgres' } as const)[target]!;
    matchGolden(`${type}/dry-run.sql`, r.stdout);
    if (type === 'duckdb' || type === 'postgres') return;
    const statements = r.stdout.split(/;\n/).map((s) => s.split('\n').filter((l) => !l.startsWith('--')).join('\n').trim()).filter(Boolean);
    assert.equal(statements.length, 4, 'staging, event time range, training table, clean-up');
    for (const s of statements) assert.equal(parseForeign(parseable(s, type), type).error, undefined, s);
  });
}
