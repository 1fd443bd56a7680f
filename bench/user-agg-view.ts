/** The aggregate view the aggregate benches share: windows 1h, 1d, 7d, 30d of count, sum, avg, max, and count_distinct over 30d. */
export function userAggView(tile: string): string {
  return `{{ config(
    materialized='aggregate',
    entities=['user'],
    timestamp='ts',
    tile='${tile}',
    aggregations=[
      agg('*', 'count', windows=['1h', '1d', '7d', '30d']),
      agg('amount', ['sum', 'avg', 'max'], windows=['1h', '1d', '7d', '30d']),
      agg('merchant_id', 'count_distinct', windows=['30d'])
    ]
) }}
select user_id, ts, amount, merchant_id from {{ source('raw', 'transactions') }}
`;
}

/**
 * The transactions the aggregate benches read (user_id, ts, amount, merchant_id): `rows` rows of
 * `users` users, ts spread evenly over `days` days after `start` (a DuckDB timestamp expression),
 * or before it when `days` is negative; amounts in cents, 1,000 merchants. `seed` varies the draw.
 */
export function transactionsSelect(rows: number, users: number, start: string, days: number, seed = 0): string {
  const h = (k: number) => `hash(i, ${seed + k})`;
  const offset = `to_microseconds((${h(2)} % ${Math.abs(days) * 86_400_000_000})::bigint)`;
  return `select 'u_' || (${h(1)} % ${users}) as user_id, ${start} ${days < 0 ? '-' : '+'} ${offset} as ts,
    ((${h(3)} % 100000) / 100)::double as amount, 'm_' || (${h(4)} % 1000) as merchant_id
  from range(${rows}) as t(i)`;
}
