/**
 * bench/feature-stats: what recording feature statistics adds to `fsql run` (SPEC section 11:
 * "a small part of the run"; target under 20% of the view's build).
 *
 *   npx tsc -p . && node dist/bench/feature-stats.js [--rows 5000000] [--users 50000] [--days 30]
 *
 * A DuckDB table of generated card transactions (`--rows` over `--days` days and `--users`
 * users) and a view like the example's: rolling 1d and 7d windows per user (counts, sums,
 * averages, maxima), the raw amount and a merchant category: 9 features, 8 numeric and a string.
 * Two runs, each timed inside fsql (run_results.json: execution_time, and stats_time within it):
 * a full build of every row, then an incremental run of the last day (its statistics read that
 * day's rows only, however long the history). Prints stats time / build time for each. Not a
 * test: no thresholds.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '../src/log.js';
import { runViews, type ViewResult } from '../src/offline/run.js';
import { loadProject } from '../src/project/load.js';
import { Timestamp } from '../src/values.js';
import { openWarehouse } from '../src/warehouse/index.js';
import { benchProject } from './bench-project.js';
import { numberFlag } from './measure.js';

const ROWS = numberFlag('--rows', 5_000_000);
const USERS = numberFlag('--users', 50_000);
const DAYS = numberFlag('--days', 30);
const START = Timestamp.parse('2024-01-01T00:00:00Z')!;

const VIEW = `{{ config(entities=['user'], timestamp='event_ts', materialized='incremental', online=false) }}
select
  user_id,
  ts as event_ts,
  amount,
  category,
  count(*) over ({{ rolling_window('user_id', 'ts', '1d') }}) as txn_count_1d,
  sum(amount) over ({{ rolling_window('user_id', 'ts', '1d') }}) as spend_1d,
  count(*) over ({{ rolling_window('user_id', 'ts', '7d') }}) as txn_count_7d,
  sum(amount) over ({{ rolling_window('user_id', 'ts', '7d') }}) as spend_7d,
  avg(amount) over ({{ rolling_window('user_id', 'ts', '7d') }}) as avg_amount_7d,
  max(amount) over ({{ rolling_window('user_id', 'ts', '7d') }}) as max_amount_7d
from {{ source('raw', 'transactions') }}
{% if is_incremental() %} where ts >= {{ incremental_start('7d') }} {% endif %}
`;

function report(what: string, r: ViewResult): void {
  if (r.status !== 'success' || r.stats_time === undefined) throw new Error(`${what}: ${r.message}`);
  const build = r.execution_time - r.stats_time;
  console.log(`${what.padEnd(34)} build ${build.toFixed(2)} s, statistics ${r.stats_time.toFixed(2)} s: stats / build = ${((100 * r.stats_time) / build).toFixed(1)}%`);
}

const dir = benchProject({ 'models/activity.sql': VIEW });
try {
  const project = loadProject({ projectDir: dir });
  const wh = await openWarehouse(project);
  const log = new Logger('text', true);
  try {
    const span = DAYS * 86400;
    await wh.execute(
      `create table transactions as select 'u' || (hash(i) % ${USERS}) as user_id, ${wh.dialect.timestampLiteral(START)} + to_seconds(cast(floor(i * ${span / ROWS}) as bigint)) as ts, ` +
        `round((hash(i * 7) % 100000) / 100.0, 2) as amount, 'c' || (hash(i * 13) % 40) as category from range(${ROWS}) as t(i)`,
    );
    console.log(`${ROWS.toLocaleString('en-US')} rows, ${USERS.toLocaleString('en-US')} users, ${DAYS} days; 9 features (8 numeric, 1 string); DuckDB`);
    const full = await runViews(project, wh, log);
    report('full build (every row)', full.results[0]);
    const lastDay = START.plusSeconds((DAYS - 1) * 86400);
    const incremental = await runViews(project, wh, log, { start: lastDay });
    report(`incremental run (last day of ${DAYS})`, incremental.results[0]);
  } finally {
    await wh.close();
  }
} finally {
  rmSync(join(dir, '..'), { recursive: true, force: true });
}
