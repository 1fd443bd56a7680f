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
