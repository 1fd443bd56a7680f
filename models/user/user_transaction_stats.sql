{{ config(
    materialized='aggregate',
    entities=['user'],
    timestamp='ts',
    tile='1h',
    aggregations=[
      agg('*', 'count', windows=['1h', '1d', '7d'], name='txn_count_{window}'),
      agg('amount', 'sum', windows=['1h', '1d', '7d'], name='spend_{window}'),
      agg('amount', 'avg', windows=['7d'], name='avg_amount_7d'),
      agg('amount', 'max', windows=['7d'], name='max_amount_7d'),
      agg('is_large', 'sum', windows=['1d'], name='large_txn_count_1d')
    ],
    description='Count and spend per card holder over the hour, day and week before the moment of use',
    owner='fraud-team',
    tags=['fraud', 'user']
) }}
-- The card holder's transactions as events; each window is computed at the moment of use
-- (t - W <= ts < t): before the scored transaction in training, before the request when serving.
select
  user_id,
  ts,
  amount,
  case when amount >= {{ var('large_amount') }} then 1 else 0 end as is_large
from {{ source('raw', 'transactions') }}
