-- fsql train --service training: target sf (snowflake), asof strategy
-- Event columns are not read in a dry run: join keys are assumed to have the views' names.
-- 1. stage the events (table:events)
create or replace table "ANALYTICS"."FEATURES"."FSQL_EVENTS_DRY_RUN" as
select *, seq8() as "__FSQL_ROW" from "ANALYTICS"."FEATURES"."EVENTS";
-- 2. the event time range; a run reads it first and prunes feature rows with literal bounds (here: subqueries)
select min(cast("EVENT_TIMESTAMP" as TIMESTAMP_NTZ)) as min_ts, max(cast("EVENT_TIMESTAMP" as TIMESTAMP_NTZ)) as max_ts from "ANALYTICS"."FEATURES"."FSQL_EVENTS_DRY_RUN";
-- 3. the training table -> table:training_set
create or replace table "ANALYTICS"."FEATURES"."TRAINING_SET" as
with fsql_events as (
  select *, cast("EVENT_TIMESTAMP" as TIMESTAMP_NTZ) as "__FSQL_TS"
  from "ANALYTICS"."FEATURES"."FSQL_EVENTS_DRY_RUN"
)
select
  e.* exclude ("__FSQL_ROW", "__FSQL_TS"),
  case when f1."FEATURE_TS" <= e."__FSQL_TS" and f1."FEATURE_TS" >= dateadd(hour, -1, e."__FSQL_TS") then f1."SCORE" end as "USER_STATS__SCORE",
  case when f1."FEATURE_TS" <= e."__FSQL_TS" and f1."FEATURE_TS" >= dateadd(hour, -1, e."__FSQL_TS") then f1."TIER" end as "USER_STATS__TIER",
  case when f2."FEATURE_TS" <= e."__FSQL_TS" then f2."RISK" end as "MERCHANT_PROFILE__RISK",
  case when f3."FEATURE_TS" <= e."__FSQL_TS" and f3."FEATURE_TS" >= dateadd(day, -1, e."__FSQL_TS") then f3."PAIR_COUNT" end as "PAIR_STATS__PAIR_COUNT"
from fsql_events as e
asof join (
  select f."USER_ID", f."FEATURE_TS", f."SCORE", f."TIER"
  from "ANALYTICS"."FEATURES"."USER_STATS" as f
  where f."USER_ID" is not null
    and f."FEATURE_TS" >= dateadd(hour, -1, (select min("__FSQL_TS") from fsql_events))
    and f."FEATURE_TS" <= (select max("__FSQL_TS") from fsql_events)
  qualify row_number() over (partition by f."USER_ID", f."FEATURE_TS" order by f."LOADED_AT" desc nulls last, hash(f."SCORE", f."TIER") desc) = 1
) as f1
  match_condition (e."__FSQL_TS" >= f1."FEATURE_TS")
  on e."USER_ID" = f1."USER_ID"
asof join (
  select f."MERCHANT_ID", f."FEATURE_TS", f."RISK"
  from "ANALYTICS"."FEATURES"."MERCHANT_PROFILE" as f
  where f."MERCHANT_ID" is not null
    and f."FEATURE_TS" <= (select max("__FSQL_TS") from fsql_events)
  qualify row_number() over (partition by f."MERCHANT_ID", f."FEATURE_TS" order by hash(f."CATEGORY", f."RISK") desc) = 1
) as f2
  match_condition (e."__FSQL_TS" >= f2."FEATURE_TS")
  on e."MERCHANT_ID" = f2."MERCHANT_ID"
asof join (
  select f."USER_ID", f."MERCHANT_ID", f."FEATURE_TS", f."PAIR_COUNT"
  from "ANALYTICS"."FEATURES"."PAIR_STATS" as f
  where f."USER_ID" is not null
    and f."MERCHANT_ID" is not null
    and f."FEATURE_TS" >= dateadd(day, -1, (select min("__FSQL_TS") from fsql_events))
    and f."FEATURE_TS" <= (select max("__FSQL_TS") from fsql_events)
  qualify row_number() over (partition by f."USER_ID", f."MERCHANT_ID", f."FEATURE_TS" order by hash(f."PAIR_COUNT") desc) = 1
) as f3
  match_condition (e."__FSQL_TS" >= f3."FEATURE_TS")
  on e."USER_ID" = f3."USER_ID" and e."MERCHANT_ID" = f3."MERCHANT_ID";
-- 4. clean up
drop table if exists "ANALYTICS"."FEATURES"."FSQL_EVENTS_DRY_RUN";
