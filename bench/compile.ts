/**
 * bench/compile: `fsql compile` on a generated project of 1,000 feature views.
 * Target: under 2 s on a 2-core machine, for a DuckDB and for a BigQuery target (checked with
 * node-sql-parser's BigQuery grammar, not DuckDB's parser). Baseline, measured in the same run: a bare script that
 * only renders the same templates with nunjucks and parses them with DuckDB (the floor of the work).
 * Run: npm run build && node dist/bench/compile.js [views]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FSQL_BIN, REPO_ROOT } from '../test/helpers/project.js';
import { median, SHEBANG_FLAGS } from './measure.js';

const VIEWS = Number(process.argv[2] ?? 1000);
const RUNS = 3;

function makeProject(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'fsql-bench-compile-')), 'bench');
  mkdirSync(join(dir, 'models', 'generated'), { recursive: true });
  writeFileSync(
    join(dir, 'profiles.yml'),
    'bench:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: target/dev.duckdb\n    prod:\n      type: bigquery\n      method: service-account\n      project: acme\n      dataset: features\n      keyfile: /none.json\n',
  );
  writeFileSync(
    join(dir, 'models', 'schema.yml'),
    'sources:\n  - name: raw\n    tables:\n      - name: events\n        path: data/events.parquet\nentities:\n  - name: user\n    join_keys: [user_id]\n',
  );
  for (let i = 0; i < VIEWS; i++) {
    const from = i % 10 === 0 || i < 10 ? "{{ source('raw', 'events') }}" : `{{ ref('view_${i - (i % 10)}') }}`;
    const ts = i % 10 === 0 || i < 10 ? 'ts' : 'event_ts';
    writeFileSync(
      join(dir, 'models', 'generated', `view_${i}.sql`),
      `{{ config(entities=['user'], timestamp='event_ts', ttl='7d', tags=['g${i % 7}']) }}
select
  user_id,
  ${ts === 'ts' ? 'ts as event_ts' : 'event_ts'},
  count(*) over ({{ rolling_window('user_id', '${ts}', '1h') }}) as c1_${i},
  sum(${ts === 'ts' ? 'amount' : `c1_${i - (i % 10)}`}) over ({{ rolling_window('user_id', '${ts}', '1d') }}) as s1_${i},
  {{ safe_divide('1', '2') }} as r_${i}
from ${from}
`,
    );
  }
  return dir;
}

function time(args: string[], cwd: string): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const BASELINE = `
import nunjucks from 'nunjucks';
import { readdirSync, readFileSync } from 'node:fs';
import { DuckDBInstance, listValue } from '@duckdb/node-api';
const env = new nunjucks.Environment(null, { autoescape: false });
const win = (p, t, w) => 'partition by ' + p + ' order by ' + t + ' range between interval 1 day preceding and current row';
const ctx = { config: () => '', rolling_window: win, safe_divide: (a, b) => 'case when ' + b + ' = 0 then null else ' + a + ' / ' + b + ' end',
  source: () => "read_parquet('data/events.parquet')", ref: (n) => '"main"."' + n + '"' };
const conn = await (await DuckDBInstance.create(':memory:')).connect();
const dir = 'models/generated';
const sqls = readdirSync(dir).map((f) => env.renderString(readFileSync(dir + '/' + f, 'utf8'), ctx));
await conn.runAndReadAll('select json_serialize_sql(s) from unnest($1::varchar[]) as t(s)', [listValue(sqls)]);
`;

const dir = makeProject();
writeFileSync(join(dir, 'baseline.mjs'), BASELINE);
// the baseline imports packages from the repo's node_modules
spawnSync('ln', ['-s', join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules')]);
const fsqlTimes: number[] = [];
const bqTimes: number[] = [];
const baseTimes: number[] = [];
for (let i = 0; i < RUNS; i++) {
  fsqlTimes.push(time([...SHEBANG_FLAGS, FSQL_BIN, 'compile'], dir));
  bqTimes.push(time([...SHEBANG_FLAGS, FSQL_BIN, '--target', 'prod', 'compile'], dir));
  baseTimes.push(time([join(dir, 'baseline.mjs')], dir));
}
const f = median(fsqlTimes);
const bq = median(bqTimes);
const b = median(baseTimes);
console.log(`views: ${VIEWS}, runs: ${RUNS} (median)`);
console.log(`fsql compile (DuckDB):        ${f.toFixed(3)} s  (target < 2 s: ${f < 2 ? 'met' : 'NOT met'})`);
console.log(`fsql compile (BigQuery):      ${bq.toFixed(3)} s  (target < 2 s: ${bq < 2 ? 'met' : 'NOT met'}; node-sql-parser's BigQuery grammar, no DuckDB parse)`);
console.log(`baseline (render + parse):    ${b.toFixed(3)} s`);
console.log(`ratio fsql / baseline:        ${(f / b).toFixed(2)}x`);
