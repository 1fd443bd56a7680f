-- fsql train --service training: target dev (duckdb), asof strategy
-- Event columns are not read in a dry run: join keys are assumed to have the views' names.
-- 1. stage the events (table:events)
create or replace table "main"."fsql_events_dry_run" as
select * from "main"."events";
-- 2. the event time range; a run reads it first and prunes feature rows with literal bounds (here: subqueries)
select min(cast("event_timestamp" as timestamp)) as min_ts, max(cast("event_timestamp" as timestamp)) as max_ts from "main"."fsql_events_dry_run";
-- 3. the training table -> table:training_set
create or replace table "main"."training_set" as
with fsql_events as (
  select *, "rowid" as "__fsql_row", cast("event_timestamp" as timestamp) as "__fsql_ts"
  from "main"."fsql_events_dry_run"
)
select
  e.* exclude ("__fsql_row", "__fsql_ts"),
  case when f1."feature_ts" <= e."__fsql_ts" and f1."feature_ts" >= (e."__fsql_ts" - interval 1 hour) then f1."score" end as "user_stats__score",
  case when f1."feature_ts" <= e."__fsql_ts" and f1."feature_ts" >= (e."__fsql_ts" - interval 1 hour) then f1."tier" end as "user_stats__tier",
  case when f2."feature_ts" <= e."__fsql_ts" then f2."risk" end as "merchant_profile__risk",
  case when f3."feature_ts" <= e."__fsql_ts" and f3."feature_ts" >= (e."__fsql_ts" - interval 1 day) then f3."pair_count" end as "pair_stats__pair_count"
from fsql_events as e
asof left join (
  select f."user_id", f."feature_ts", f."score", f."tier", struct_pack("t" := f."feature_ts", "c" := coalesce(f."loaded_at", timestamp '-infinity'), "h" := hash(f."score", f."tier")) as "__fsql_order"
  from "main"."user_stats" as f
  where f."user_id" is not null
    and f."feature_ts" >= ((select min("__fsql_ts") from fsql_events) - interval 1 hour)
    and f."feature_ts" <= (select max("__fsql_ts") from fsql_events)
) as f1
  on e."user_id" = f1."user_id" and struct_pack("t" := e."__fsql_ts", "c" := timestamp 'infinity', "h" := cast(18446744073709551615 as ubigint)) >= f1."__fsql_order"
asof left join (
  select f."merchant_id", f."feature_ts", f."risk", (cast(epoch_us(f."feature_ts") as hugeint) * cast('18446744073709551616' as hugeint) + hash(f."category", f."risk")) as "__fsql_order"
  from "main"."merchant_profile" as f
  where f."merchant_id" is not null
    and f."feature_ts" <= (select max("__fsql_ts") from fsql_events)
) as f2
  on e."merchant_id" = f2."merchant_id" and (cast(epoch_us(e."__fsql_ts") as hugeint) * cast('18446744073709551616' as hugeint) + cast(18446744073709551615 as ubigint)) >= f2."__fsql_order"
asof left join (
  select f."user_id", f."merchant_id", f."feature_ts", f."pair_count", (cast(epoch_us(f."feature_ts") as hugeint) * cast('18446744073709551616' as hugeint) + hash(f."pair_count")) as "__fsql_order"
  from "main"."pair_stats" as f
  where f."user_id" is not null
    and f."merchant_id" is not null
    and f."feature_ts" >= ((select min("__fsql_ts") from fsql_events) - interval 1 day)
    and f."feature_ts" <= (select max("__fsql_ts") from fsql_events)
) as f3
  on e."user_id" = f3."user_id" and e."merchant_id" = f3."merchant_id" and (cast(epoch_us(e."__fsql_ts") as hugeint) * cast('18446744073709551616' as hugeint) + cast(18446744073709551615 as ubigint)) >= f3."__fsql_order"
order by e."__fsql_row";
-- 4. clean up
drop table if exists "main"."fsql_events_dry_run";
