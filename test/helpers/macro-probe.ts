/**
 * A feature view calling every built-in macro on edge-case rows, and the values it must give on
 * every warehouse, worked out by hand (bigquery-execute.test.ts runs it on ZetaSQL and DuckDB).
 */

/** Edge cases for the macros: sub-second times a window width apart, a Sunday before a Monday, a leap day, halves to round. */
export const MACRO_ROWS = `txn_id,user_id,merchant_id,amount,ts,is_chargeback
t1,u1,m1,2.5,2024-01-07 23:59:59.5,false
t2,u1,m1,-2.5,2024-01-08 00:00:00.5,true
t3,u1,m2,1.5,2024-01-08 00:00:01.5,false
t4,u1,m2,10.0,2024-01-08 01:00:01.500001,false
t5,u2,m1,0.5,2024-02-29 12:34:56.789,false
t6,u2,m3,3.75,2024-03-31 23:00:00,true
`;

/** Every built-in macro, and the example's rolling_count_and_spend (macros/rolling_stats.sql). */
export const MACRO_PROBE = `{{ config(entities=['user'], timestamp='ts') }}
select
  txn_id,
  user_id,
  ts,
  {{ safe_divide('amount', 'case when is_chargeback then 0 else 2 end') }} as halved,
  {{ safe_divide('amount', 'null') }} as by_null,
  count(*) over ({{ rolling_window('user_id', 'ts', '1s') }}) as n_1s,
  count(*) over ({{ rolling_window('user_id', 'ts', '1s', 'before') }}) as n_1s_before,
  {{ rolling_count_and_spend('user_id', 'ts', '1h', '1h') }},
  {{ time_sub('ts', '90m') }} as minus_90m,
  {{ time_add('ts', '1d') }} as plus_1d,
  {{ time_add('ts', '36h') }} as plus_36h,
  {{ seconds_between(timestamp_literal('2024-01-01T00:00:00Z'), 'ts') }} as since_new_year,
  {{ cast_as('amount', 'int64') }} as amount_int,
  {{ cast_as('amount', 'string') }} as amount_text,
  {{ cast_as("'2024-01-02 03:04:05.000006'", 'timestamp') }} as parsed,
  {{ cast_as("'2024-01-02 03:04:05+02'", 'timestamp') }} as parsed_offset,
  {{ cast_as('ts', 'string') }} as ts_text,
  {{ cast_as('is_chargeback', 'int64') }} as chargeback_int,
{%- for unit in ['second', 'minute', 'hour', 'day', 'week', 'month', 'quarter', 'year'] %}
  {{ date_trunc(unit, 'ts') }} as trunc_{{ unit }},
{%- endfor %}
  {{ timestamp_literal('2024-01-01T00:00:00.000001Z') }} as literal_ts
from {{ source('raw', 'transactions') }}
order by txn_id
`;

const column = (...values: (string | number | null)[]) => values;
const utc = (...texts: string[]) => texts.map((t) => `${t}Z`);
const same = <T>(value: T) => Array<T>(6).fill(value);

/** What the macros give for MACRO_ROWS, worked out by hand: windows include both ends, times are UTC. */
export const EXPECTED_MACROS: Record<string, (string | number | null)[]> = {
  txn_id: column('t1', 't2', 't3', 't4', 't5', 't6'),
  halved: column(1.25, null, 0.75, 5, 0.25, null),
  by_null: same(null),
  n_1s: column(1, 2, 2, 1, 1, 1),
  // [t - 1s, t): the row itself left out; t1 is exactly 1 s before t2, t2 exactly 1 s before t3
  n_1s_before: column(0, 1, 1, 0, 0, 0),
  txn_count_1h: column(1, 2, 3, 1, 1, 1),
  spend_1h: column(2.5, 0, 1.5, 10, 0.5, 3.75),
  minus_90m: utc('2024-01-07T22:29:59.500', '2024-01-07T22:30:00.500', '2024-01-07T22:30:01.500', '2024-01-07T23:30:01.500001', '2024-02-29T11:04:56.789', '2024-03-31T21:30:00'),
  plus_1d: utc('2024-01-08T23:59:59.500', '2024-01-09T00:00:00.500', '2024-01-09T00:00:01.500', '2024-01-09T01:00:01.500001', '2024-03-01T12:34:56.789', '2024-04-01T23:00:00'),
  plus_36h: utc('2024-01-09T11:59:59.500', '2024-01-09T12:00:00.500', '2024-01-09T12:00:01.500', '2024-01-09T13:00:01.500001', '2024-03-02T00:34:56.789', '2024-04-02T11:00:00'),
  since_new_year: column(604799.5, 604800.5, 604801.5, 608401.500001, 5142896.789, 7858800),
  parsed: same('2024-01-02T03:04:05.000006Z'),
  chargeback_int: column(0, 1, 0, 0, 0, 1),
  trunc_second: utc('2024-01-07T23:59:59', '2024-01-08T00:00:00', '2024-01-08T00:00:01', '2024-01-08T01:00:01', '2024-02-29T12:34:56', '2024-03-31T23:00:00'),
  trunc_minute: utc('2024-01-07T23:59:00', '2024-01-08T00:00:00', '2024-01-08T00:00:00', '2024-01-08T01:00:00', '2024-02-29T12:34:00', '2024-03-31T23:00:00'),
  trunc_hour: utc('2024-01-07T23:00:00', '2024-01-08T00:00:00', '2024-01-08T00:00:00', '2024-01-08T01:00:00', '2024-02-29T12:00:00', '2024-03-31T23:00:00'),
  trunc_day: utc('2024-01-07T00:00:00', '2024-01-08T00:00:00', '2024-01-08T00:00:00', '2024-01-08T00:00:00', '2024-02-29T00:00:00', '2024-03-31T00:00:00'),
  trunc_month: utc('2024-01-01T00:00:00', '2024-01-01T00:00:00', '2024-01-01T00:00:00', '2024-01-01T00:00:00', '2024-02-01T00:00:00', '2024-03-01T00:00:00'),
  trunc_quarter: same('2024-01-01T00:00:00Z'),
  trunc_year: same('2024-01-01T00:00:00Z'),
  literal_ts: same('2024-01-01T00:00:00.000001Z'),
};

/** Reported to the lead: the dialects render these macros to SQL with other results on BigQuery than on DuckDB. */
export const MACROS_THAT_DIFFER =
  'cast_as(float64 -> int64) rounds halves away from zero on BigQuery (2.5 -> 3, -2.5 -> -3, 0.5 -> 1), to even on DuckDB (2, -2, 0); ' +
  "cast_as(float64 -> string) writes 10.0 as '10' on BigQuery, '10.0' on DuckDB; " +
  "cast_as(timestamp -> string) writes '2024-01-07 23:59:59.500+00' on BigQuery, '2024-01-07 23:59:59.5' on DuckDB; " +
  "cast_as('2024-01-02 03:04:05+02' -> timestamp) is 01:04:05 UTC on BigQuery, 03:04:05 on DuckDB (the offset dropped)";

