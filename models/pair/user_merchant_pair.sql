{{ config(
    materialized='aggregate',
    entities=['user', 'merchant'],
    timestamp='ts',
    tile='1d',
    aggregations=[
      agg('*', 'count', windows=['30d'], name='pair_txn_count_30d'),
      agg('amount', 'sum', windows=['30d'], name='pair_spend_30d')
    ],
    description='A card holder at one merchant over the 30 days before the moment of use',
    owner='fraud-team',
    tags=['fraud']
) }}
select user_id, merchant_id, ts, amount from {{ source('raw', 'transactions') }}
