-- fsql train --service training: target pg (postgres), lateral strategy
-- Event columns are not read in a dry run: join keys are assumed to have the views' names.
-- 1. stage the events (table:events)
drop table if exists "features"."fsql_events_dry_run";
create table "features"."fsql_events_dry_run" as
select *, row_number() over () as "__fsql_row" from "features"."events";
-- 2. the event time range; a run reads it first and prunes feature rows with literal bounds (here: subqueries)
select min(cast("event_timestamp" as timestamp)) as min_ts, max(cast("event_timestamp" as timestamp)) as max_ts from "features"."fsql_events_dry_run";
-- 3. the training table -> table:training_set
drop table if exists "features"."training_set";
create table "features"."training_set" as
with fsql_events as (
  select *, cast("event_timestamp" as timestamp) as "__fsql_ts"
  from "features"."fsql_events_dry_run"
)
select
  e."user_id", e."merchant_id", e."event_timestamp",
  case when f1."feature_ts" >= (e."__fsql_ts" - interval '1 hours') then f1."score" end as "user_stats__score",
  case when f1."feature_ts" >= (e."__fsql_ts" - interval '1 hours') then f1."tier" end as "user_stats__tier",
  f2."risk" as "merchant_profile__risk",
  case when f3."feature_ts" >= (e."__fsql_ts" - interval '1 days') then f3."pair_count" end as "pair_stats__pair_count"
from fsql_events as e
left join lateral (
  select f."user_id", f."feature_ts", f."score", f."tier"
  from "features"."user_stats" as f
  where f."user_id" = e."user_id"
    and f."feature_ts" <= e."__fsql_ts"
    and f."feature_ts" >= (e."__fsql_ts" - interval '1 hours')
    and f."user_id" is not null
    and f."feature_ts" >= ((select min("__fsql_ts") from fsql_events) - interval '1 hours')
    and f."feature_ts" <= (select max("__fsql_ts") from fsql_events)
  order by f."feature_ts" desc, f."loaded_at" desc nulls last, hashtextextended(row(f."score", f."tier")::text, 0) desc
  limit 1
) as f1 on true
left join lateral (
  select f."merchant_id", f."feature_ts", f."risk"
  from "features"."merchant_profile" as f
  where f."merchant_id" = e."merchant_id"
    and f."feature_ts" <= e."__fsql_ts"
    and f."merchant_id" is not null
    and f."feature_ts" <= (select max("__fsql_ts") from fsql_events)
  order by f."feature_ts" desc, hashtextextended(row(f."category", f."risk")::text, 0) desc
  limit 1
) as f2 on true
left join lateral (
  select f."user_id", f."merchant_id", f."feature_ts", f."pair_count"
  from "features"."pair_stats" as f
  where f."user_id" = e."user_id"
    and f."merchant_id" = e."merchant_id"
    and f."feature_ts" <= e."__fsql_ts"
    and f."feature_ts" >= (e."__fsql_ts" - interval '1 days')
    and f."user_id" is not null
    and f."merchant_id" is not null
    and f."feature_ts" >= ((select min("__fsql_ts") from fsql_events) - interval '1 days')
    and f."feature_ts" <= (select max("__fsql_ts") from fsql_events)
  order by f."feature_ts" desc, hashtextextended(row(f."pair_count")::text, 0) desc
  limit 1
) as f3 on true;
-- 4. clean up
drop table if exists "features"."fsql_events_dry_run";
