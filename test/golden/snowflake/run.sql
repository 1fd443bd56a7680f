-- merchant_risk: table
create or replace table "ANALYTICS"."FEATURES"."MERCHANT_RISK" as
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
;

-- user_merchant_pair: table
create or replace table "ANALYTICS"."FEATURES"."USER_MERCHANT_PAIR" as
select distinct
  user_id,
  merchant_id,
  ts as event_ts,
  count(*) over (partition by user_id, merchant_id order by ts range between interval '30 days' preceding and current row) as pair_txn_count_30d,
  sum(amount) over (partition by user_id, merchant_id order by ts range between interval '30 days' preceding and current row) as pair_spend_30d
from "ANALYTICS"."RAW"."TRANSACTIONS"
;

-- user_transaction_stats: table (incremental: full build shown; pass --start to see the incremental statements)
create or replace table "ANALYTICS"."FEATURES"."USER_TRANSACTION_STATS" as
-- One row per (user, transaction time): the user's activity up to and including that moment.
select distinct
  user_id,
  ts as event_ts,
  count(*) over (partition by user_id order by ts range between interval '1 hours' preceding and current row) as txn_count_1h,
  sum(amount) over (partition by user_id order by ts range between interval '1 hours' preceding and current row) as spend_1h,
  count(*) over (partition by user_id order by ts range between interval '1 days' preceding and current row) as txn_count_1d,
  sum(amount) over (partition by user_id order by ts range between interval '1 days' preceding and current row) as spend_1d,
  count(*) over (partition by user_id order by ts range between interval '7 days' preceding and current row) as txn_count_7d,
  sum(amount) over (partition by user_id order by ts range between interval '7 days' preceding and current row) as spend_7d,
  avg(amount) over (partition by user_id order by ts range between interval '7 days' preceding and current row) as avg_amount_7d,
  max(amount) over (partition by user_id order by ts range between interval '7 days' preceding and current row) as max_amount_7d,
  sum(case when amount >= 500 then 1 else 0 end) over (partition by user_id order by ts range between interval '1 days' preceding and current row) as large_txn_count_1d
from "ANALYTICS"."RAW"."TRANSACTIONS"
;
