/** Built-in dialect macros executed on DuckDB against values computed by hand. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { fsql, makeProject } from './helpers/project.js';
import { dialectFor } from '../src/dialects/index.js';

const CSV = `k,v,ts
a,1,2024-01-01 00:00:00
a,2,2024-01-01 00:59:59.5
a,4,2024-01-01 01:00:00
a,8,2024-01-01 02:00:00.000001
a,16,2024-01-08 02:00:00.000001
b,32,2024-01-01 01:00:00
`;

const VIEW = `{{ config(entities=['thing'], timestamp='event_ts') }}
select
  k,
  ts as event_ts,
  sum(v) over ({{ rolling_window('k', 'ts', '1h') }}) as sum_1h,
  sum(v) over ({{ rolling_window('k', 'ts', '7d') }}) as sum_7d,
  sum(v) over ({{ rolling_window('k', 'ts', 90) }}) as sum_90s,
  {{ time_sub('ts', '1d') }} as day_before,
  {{ time_add('ts', '90s') }} as plus_90s,
  {{ date_trunc('hour', 'ts') }} as hour,
  {{ safe_divide('v', 'v - 1') }} as ratio,
  {{ cast_as('v', 'float64') }} as v_float,
  {{ seconds_between(timestamp_literal('2024-01-01'), 'ts') }} as secs
from {{ source('raw', 'things') }}
`;

const YML = `sources:\n  - name: raw\n    tables:\n      - name: things\n        path: data/things.csv\nentities:\n  - name: thing\n    join_keys: [k]\n`;

test('rolling windows, time arithmetic, truncation, safe division and casts give hand-computed values', async () => {
  const dir = makeProject({ 'data/things.csv': CSV, 'models/schema.yml': YML, 'models/m.sql': VIEW });
  const r = fsql(['--project-dir', dir, 'run']);
  assert.equal(r.code, 0, r.stderr);
  const db = await DuckDBInstance.create(join(dir, 'target', 'dev.duckdb'), { access_mode: 'READ_ONLY' });
  const conn = await db.connect();
  const got = (
    await conn.runAndReadAll(
      `select k, sum_1h::int, sum_7d::int, sum_90s::int, strftime(day_before, '%Y-%m-%d %H:%M:%S.%f'), strftime(plus_90s, '%H:%M:%S'), strftime(hour, '%H:%M'), ratio, v_float, secs from m order by k, event_ts`,
    )
  ).getRowsJS();
  conn.closeSync();
  db.closeSync();
  assert.deepEqual(got, [
    // the 1h frame includes rows exactly 1h back (both ends inclusive), and not 1 microsecond more
    ['a', 1, 1, 1, '2023-12-31 00:00:00.000000', '00:01:30', '00:00', null, 1, 0],
    ['a', 3, 3, 2, '2023-12-31 00:59:59.500000', '01:01:29', '00:00', 2, 2, 3599.5],
    ['a', 7, 7, 6, '2023-12-31 01:00:00.000000', '01:01:30', '01:00', 4 / 3, 4, 3600],
    ['a', 8, 15, 8, '2023-12-31 02:00:00.000001', '02:01:30', '02:00', 8 / 7, 8, 7200.000001],
    ['a', 16, 24, 16, '2024-01-07 02:00:00.000001', '02:01:30', '02:00', 16 / 15, 16, 612000.000001],
    ['b', 32, 32, 32, '2023-12-31 01:00:00.000000', '01:01:30', '01:00', 32 / 31, 32, 3600],
  ]);
});

test('each dialect renders the rolling window and time arithmetic of SPEC section 8', () => {
  const duck = dialectFor('duckdb');
  const bq = dialectFor('bigquery');
  const sf = dialectFor('snowflake');
  assert.equal(duck.rollingWindow('u', 'ts', 7 * 86400), 'partition by u order by ts range between interval 7 day preceding and current row');
  assert.equal(bq.rollingWindow('u', 'ts', 7 * 86400), 'partition by u order by unix_micros(ts) range between 604800000000 preceding and current row');
  assert.equal(sf.rollingWindow('u', 'ts', 7 * 86400), "partition by u order by ts range between interval '7 days' preceding and current row");
  assert.equal(duck.timeSub('ts', 7 * 86400), '(ts - interval 7 day)');
  assert.equal(bq.timeSub('ts', 7 * 86400), 'timestamp_sub(ts, interval 7 day)');
  assert.equal(sf.timeSub('ts', 7 * 86400), 'dateadd(day, -7, ts)');
  assert.equal(sf.quoteIdent('user_id'), '"USER_ID"');
  assert.equal(sf.quoteIdent('Mixed Case'), '"Mixed Case"');
  assert.equal(bq.relation({ database: 'p', schema: 'd', name: 't' }), '`p.d.t`');
  assert.equal(duck.stringLiteral("it's"), "'it''s'");
  assert.equal(bq.stringLiteral("it's \\"), "'it\\'s \\\\'");
});

test('rolling_window covers [t - width, t]: over daily rows 7d holds 8 rows; minus a width of 0, the half-open [t - width, t)', async () => {
  const days = Array.from({ length: 10 }, (_, i) => `a,1,2024-01-${String(i + 1).padStart(2, '0')} 00:00:00`);
  const csv = `k,v,ts\n${days.join('\n')}\na,1,2024-01-10 00:00:00\n`;
  const view = `{{ config(entities=['thing'], timestamp='event_ts') }}
select distinct
  k,
  ts as event_ts,
  count(*) over ({{ rolling_window('k', 'ts', '7d') }}) as closed_7d,
  count(*) over ({{ rolling_window('k', 'ts', '7d') }}) - count(*) over ({{ rolling_window('k', 'ts', 0) }}) as before_7d
from {{ source('raw', 'things') }}
`;
  const dir = makeProject({ 'data/things.csv': csv, 'models/schema.yml': YML, 'models/w.sql': view });
  const r = fsql(['--project-dir', dir, 'run']);
  assert.equal(r.code, 0, r.stderr);
  const db = await DuckDBInstance.create(join(dir, 'target', 'dev.duckdb'), { access_mode: 'READ_ONLY' });
  const conn = await db.connect();
  const got = (await conn.runAndReadAll(`select strftime(event_ts, '%d'), closed_7d::int, before_7d::int from w order by event_ts`)).getRowsJS();
  conn.closeSync();
  db.closeSync();
  // Day 9: days 2..9 (8 rows, both ends in) and days 2..8 before it. Day 10 has two rows at one
  // instant: both are in the closed window, neither in the half-open one.
  assert.deepEqual(got.slice(-3), [
    ['08', 8, 7],
    ['09', 8, 7],
    ['10', 9, 7],
  ]);
});
