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

-- user_merchant_pair: aggregate incremental (per-tile tables shown; views of the events instead where a full build finds under 1.5 rows per tile)
begin transaction;
merge into `acme-ml.features.user_merchant_pair` as fsql_t
using (
select * from (
select s.*, div((unix_micros(s.`ts`)) - mod(mod(unix_micros(s.`ts`), 86400000000) + 86400000000, 86400000000), 86400000000) as `__fsql_tile`
from (
select user_id, merchant_id, ts, amount from `acme-ml.raw.transactions`
) as s
where s.`ts` is not null and s.`user_id` is not null and s.`merchant_id` is not null
) where `ts` >= timestamp '2024-04-01 00:00:00.000000+00'
) as fsql_s
on false
when not matched by source and fsql_t.`ts` >= timestamp '2024-04-01 00:00:00.000000+00' then delete
when not matched then insert row;
delete from `acme-ml.features.user_merchant_pair__tiles` where `__fsql_tile` >= 19814;
insert into `acme-ml.features.user_merchant_pair__tiles`
select r.`user_id`, r.`merchant_id`, r.`__fsql_tile`, count(*) as `fsql_rows`, count(r.`amount`) as `fsql_n_0`, sum(r.`amount`) as `fsql_s_0`
from `acme-ml.features.user_merchant_pair` as r
  where r.`__fsql_tile` >= 19814 and r.`ts` >= timestamp '2024-04-01 00:00:00.000000+00'
group by r.`user_id`, r.`merchant_id`, r.`__fsql_tile`;
commit;

-- user_transaction_stats: aggregate incremental (per-tile tables shown; views of the events instead where a full build finds under 1.5 rows per tile)
begin transaction;
merge into `acme-ml.features.user_transaction_stats` as fsql_t
using (
select * from (
select s.*, div((unix_micros(s.`ts`)) - mod(mod(unix_micros(s.`ts`), 3600000000) + 3600000000, 3600000000), 3600000000) as `__fsql_tile`
from (
-- The card holder's transactions as events; each window is computed at the moment of use
-- (t - W <= ts < t): before the scored transaction in training, before the request when serving.
select
  user_id,
  ts,
  amount,
  case when amount >= 500 then 1 else 0 end as is_large
from `acme-ml.raw.transactions`
) as s
where s.`ts` is not null and s.`user_id` is not null
) where `ts` >= timestamp '2024-04-01 00:00:00.000000+00'
) as fsql_s
on false
when not matched by source and fsql_t.`ts` >= timestamp '2024-04-01 00:00:00.000000+00' then delete
when not matched then insert row;
delete from `acme-ml.features.user_transaction_stats__tiles` where `__fsql_tile` >= 475536;
insert into `acme-ml.features.user_transaction_stats__tiles`
select r.`user_id`, r.`__fsql_tile`, count(*) as `fsql_rows`, count(r.`amount`) as `fsql_n_0`, sum(r.`amount`) as `fsql_s_0`, max(r.`amount`) as `fsql_max_0`, count(r.`is_large`) as `fsql_n_1`, sum(r.`is_large`) as `fsql_s_1`
from `acme-ml.features.user_transaction_stats` as r
  where r.`__fsql_tile` >= 475536 and r.`ts` >= timestamp '2024-04-01 00:00:00.000000+00'
group by r.`user_id`, r.`__fsql_tile`;
commit;
