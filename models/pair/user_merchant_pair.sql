{{ config(
    entities=['user', 'merchant'],
    timestamp='event_ts',
    ttl='30d',
    description='A card holder at one merchant over 30 days',
    owner='fraud-team',
    tags=['fraud']
) }}
select distinct
  user_id,
  merchant_id,
  ts as event_ts,
  count(*) over ({{ rolling_window('user_id, merchant_id', 'ts', '30d') }}) as pair_txn_count_30d,
  sum(amount) over ({{ rolling_window('user_id, merchant_id', 'ts', '30d') }}) as pair_spend_30d
from {{ source('raw', 'transactions') }}
