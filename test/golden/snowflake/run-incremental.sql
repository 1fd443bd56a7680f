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

-- user_merchant_pair: aggregate incremental (per-tile tables shown; views of the events instead where a full build finds under 1.5 rows per tile)
begin transaction;
delete from "ANALYTICS"."FEATURES"."USER_MERCHANT_PAIR" where "TS" >= '2024-04-01 00:00:00.000000'::timestamp_ntz;
insert into "ANALYTICS"."FEATURES"."USER_MERCHANT_PAIR"
select * from (
select s.*, cast(floor((date_part(epoch_microsecond, s."TS")) / 86400000000) as NUMBER(38,0)) as "__FSQL_TILE"
from (
select user_id, merchant_id, ts, amount from "ANALYTICS"."RAW"."TRANSACTIONS"
) as s
where s."TS" is not null and s."USER_ID" is not null and s."MERCHANT_ID" is not null
) as fsql_new where "TS" >= '2024-04-01 00:00:00.000000'::timestamp_ntz;
delete from "ANALYTICS"."FEATURES"."USER_MERCHANT_PAIR__TILES" where "__FSQL_TILE" >= 19814;
insert into "ANALYTICS"."FEATURES"."USER_MERCHANT_PAIR__TILES"
select r."USER_ID", r."MERCHANT_ID", r."__FSQL_TILE", count(*) as "FSQL_ROWS", count(r."AMOUNT") as "FSQL_N_0", sum(r."AMOUNT") as "FSQL_S_0"
from "ANALYTICS"."FEATURES"."USER_MERCHANT_PAIR" as r
  where r."__FSQL_TILE" >= 19814 and r."TS" >= '2024-04-01 00:00:00.000000'::timestamp_ntz
group by r."USER_ID", r."MERCHANT_ID", r."__FSQL_TILE";
commit;

-- user_transaction_stats: aggregate incremental (per-tile tables shown; views of the events instead where a full build finds under 1.5 rows per tile)
begin transaction;
delete from "ANALYTICS"."FEATURES"."USER_TRANSACTION_STATS" where "TS" >= '2024-04-01 00:00:00.000000'::timestamp_ntz;
insert into "ANALYTICS"."FEATURES"."USER_TRANSACTION_STATS"
select * from (
select s.*, cast(floor((date_part(epoch_microsecond, s."TS")) / 3600000000) as NUMBER(38,0)) as "__FSQL_TILE"
from (
-- The card holder's transactions as events; each window is computed at the moment of use
-- (t - W <= ts < t): before the scored transaction in training, before the request when serving.
select
  user_id,
  ts,
  amount,
  case when amount >= 500 then 1 else 0 end as is_large
from "ANALYTICS"."RAW"."TRANSACTIONS"
) as s
where s."TS" is not null and s."USER_ID" is not null
) as fsql_new where "TS" >= '2024-04-01 00:00:00.000000'::timestamp_ntz;
delete from "ANALYTICS"."FEATURES"."USER_TRANSACTION_STATS__TILES" where "__FSQL_TILE" >= 475536;
insert into "ANALYTICS"."FEATURES"."USER_TRANSACTION_STATS__TILES"
select r."USER_ID", r."__FSQL_TILE", count(*) as "FSQL_ROWS", count(r."AMOUNT") as "FSQL_N_0", sum(r."AMOUNT") as "FSQL_S_0", max(r."AMOUNT") as "FSQL_MAX_0", count(r."IS_LARGE") as "FSQL_N_1", sum(r."IS_LARGE") as "FSQL_S_1"
from "ANALYTICS"."FEATURES"."USER_TRANSACTION_STATS" as r
  where r."__FSQL_TILE" >= 475536 and r."TS" >= '2024-04-01 00:00:00.000000'::timestamp_ntz
group by r."USER_ID", r."__FSQL_TILE";
commit;
