with daily as (
  select
    merchant_id,
    timestamp_trunc(ts, day) as day,
    count(*) as txn_count,
    sum(case when is_chargeback then 1 else 0 end) as chargebacks,
    sum(amount) as volume
  from `acme-ml.raw.transactions`
  group by 1, 2
),
rolling as (
  select
    merchant_id,
    day,
    cast(sum(txn_count) over (partition by merchant_id order by unix_micros(day) range between 2592000000000 preceding and current row) as INT64) as txn_count_30d,
    cast(sum(chargebacks) over (partition by merchant_id order by unix_micros(day) range between 2592000000000 preceding and current row) as INT64) as chargebacks_30d,
    sum(volume) over (partition by merchant_id order by unix_micros(day) range between 2592000000000 preceding and current row) as volume_30d
  from daily
)
-- A day's numbers are known only once the day is over: the row becomes true at the next midnight.
select
  merchant_id,
  timestamp_add(day, interval 1 day) as feature_ts,
  txn_count_30d,
  volume_30d,
  safe_divide(cast(chargebacks_30d as FLOAT64), txn_count_30d) as chargeback_rate,
  safe_divide(cast(chargebacks_30d as FLOAT64) * 100, txn_count_30d + 20) as risk_score
from rolling
