-- merchant_risk: table
create or replace table `acme-ml.features.merchant_risk`
partition by timestamp_trunc(`feature_ts`, day)
cluster by `merchant_id` as
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
;

-- user_merchant_pair: table
create or replace table `acme-ml.features.user_merchant_pair`
partition by timestamp_trunc(`event_ts`, day)
cluster by `user_id`, `merchant_id` as
select distinct
  user_id,
  merchant_id,
  ts as event_ts,
  count(*) over (partition by user_id, merchant_id order by unix_micros(ts) range between 2592000000000 preceding and current row) as pair_txn_count_30d,
  sum(amount) over (partition by user_id, merchant_id order by unix_micros(ts) range between 2592000000000 preceding and current row) as pair_spend_30d
from `acme-ml.raw.transactions`
;

-- user_transaction_stats: incremental
merge into `acme-ml.features.user_transaction_stats` as fsql_t
using (
select * from (
-- One row per (user, transaction time): the user's activity up to and including that moment.
select distinct
  user_id,
  ts as event_ts,
  count(*) over (partition by user_id order by unix_micros(ts) range between 3600000000 preceding and current row) as txn_count_1h,
  sum(amount) over (partition by user_id order by unix_micros(ts) range between 3600000000 preceding and current row) as spend_1h,
  count(*) over (partition by user_id order by unix_micros(ts) range between 86400000000 preceding and current row) as txn_count_1d,
  sum(amount) over (partition by user_id order by unix_micros(ts) range between 86400000000 preceding and current row) as spend_1d,
  count(*) over (partition by user_id order by unix_micros(ts) range between 604800000000 preceding and current row) as txn_count_7d,
  sum(amount) over (partition by user_id order by unix_micros(ts) range between 604800000000 preceding and current row) as spend_7d,
  avg(amount) over (partition by user_id order by unix_micros(ts) range between 604800000000 preceding and current row) as avg_amount_7d,
  max(amount) over (partition by user_id order by unix_micros(ts) range between 604800000000 preceding and current row) as max_amount_7d,
  sum(case when amount >= 500 then 1 else 0 end) over (partition by user_id order by unix_micros(ts) range between 86400000000 preceding and current row) as large_txn_count_1d
from `acme-ml.raw.transactions`

where ts >= timestamp '2024-03-25 00:00:00.000000+00'

) where `event_ts` >= timestamp '2024-04-01 00:00:00.000000+00'
) as fsql_s
on false
when not matched by source and fsql_t.`event_ts` >= timestamp '2024-04-01 00:00:00.000000+00' then delete
when not matched then insert row;
