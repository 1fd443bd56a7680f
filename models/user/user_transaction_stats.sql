{{ config(
    entities=['user'],
    timestamp='event_ts',
    ttl='7d',
    materialized='incremental',
    lookback='1d',
    description='Rolling count and spend per card holder',
    owner='fraud-team',
    tags=['fraud', 'user']
) }}
-- One row per (user, transaction time): the user's activity up to and including that moment.
select distinct
  user_id,
  ts as event_ts,
  {{ rolling_count_and_spend('user_id', 'ts', '1h', '1h') }},
  {{ rolling_count_and_spend('user_id', 'ts', '1d', '1d') }},
  {{ rolling_count_and_spend('user_id', 'ts', '7d', '7d') }},
  avg(amount) over ({{ rolling_window('user_id', 'ts', '7d') }}) as avg_amount_7d,
  max(amount) over ({{ rolling_window('user_id', 'ts', '7d') }}) as max_amount_7d,
  sum(case when amount >= {{ var('large_amount') }} then 1 else 0 end) over ({{ rolling_window('user_id', 'ts', '1d') }}) as large_txn_count_1d
from {{ source('raw', 'transactions') }}
{% if is_incremental() %}
where ts >= {{ incremental_start('7d') }}
{% endif %}
