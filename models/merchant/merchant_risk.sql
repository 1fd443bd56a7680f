{{ config(
    entities=['merchant'],
    timestamp='feature_ts',
    ttl='3d',
    description='Chargeback statistics per merchant over 30 days',
    owner='risk-team',
    tags=['fraud', 'merchant']
) }}
with daily as (
  select
    merchant_id,
    {{ date_trunc('day', 'ts') }} as day,
    count(*) as txn_count,
    sum(case when is_chargeback then 1 else 0 end) as chargebacks,
    sum(amount) as volume
  from {{ source('raw', 'transactions') }}
  group by 1, 2
),
rolling as (
  select
    merchant_id,
    day,
    {{ cast_as('sum(txn_count) over (' ~ rolling_window('merchant_id', 'day', '30d') ~ ')', 'int64') }} as txn_count_30d,
    {{ cast_as('sum(chargebacks) over (' ~ rolling_window('merchant_id', 'day', '30d') ~ ')', 'int64') }} as chargebacks_30d,
    sum(volume) over ({{ rolling_window('merchant_id', 'day', '30d') }}) as volume_30d
  from daily
)
-- A day's numbers are known only once the day is over: the row becomes true at the next midnight.
select
  merchant_id,
  {{ time_add('day', '1d') }} as feature_ts,
  txn_count_30d,
  volume_30d,
  {{ safe_divide(cast_as('chargebacks_30d', 'float64'), 'txn_count_30d') }} as chargeback_rate,
  {{ safe_divide(cast_as('chargebacks_30d', 'float64') ~ ' * 100', 'txn_count_30d + 20') }} as risk_score
from rolling
