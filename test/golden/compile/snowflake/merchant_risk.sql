with daily as (
  select
    merchant_id,
    date_trunc('day', ts) as day,
    count(*) as txn_count,
    sum(case when is_chargeback then 1 else 0 end) as chargebacks,
    sum(amount) as volume
  from "ANALYTICS"."RAW"."TRANSACTIONS"
  group by 1, 2
),
rolling as (
  select
    merchant_id,
    day,
    cast(sum(txn_count) over (partition by merchant_id order by day range between interval '30 days' preceding and current row) as NUMBER(38,0)) as txn_count_30d,
    cast(sum(chargebacks) over (partition by merchant_id order by day range between interval '30 days' preceding and current row) as NUMBER(38,0)) as chargebacks_30d,
    sum(volume) over (partition by merchant_id order by day range between interval '30 days' preceding and current row) as volume_30d
  from daily
)
-- A day's numbers are known only once the day is over: the row becomes true at the next midnight.
select
  merchant_id,
  dateadd(day, 1, day) as feature_ts,
  txn_count_30d,
  volume_30d,
  case when (txn_count_30d) = 0 then null else cast(cast(chargebacks_30d as FLOAT) as FLOAT) / (txn_count_30d) end as chargeback_rate,
  case when (txn_count_30d + 20) = 0 then null else cast(cast(chargebacks_30d as FLOAT) * 100 as FLOAT) / (txn_count_30d + 20) end as risk_score
from rolling
