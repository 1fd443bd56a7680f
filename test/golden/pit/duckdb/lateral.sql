with fsql_events as (
  select *, "rowid" as "__fsql_row", cast("event_timestamp" as timestamp) as "__fsql_ts"
  from "main"."fsql_events_golden"
)
select
  e.* exclude ("__fsql_row", "__fsql_ts"),
  case when f1."feature_ts" >= (e."__fsql_ts" - interval 1 hour) then f1."score" end as "user_stats__score",
  case when f1."feature_ts" >= (e."__fsql_ts" - interval 1 hour) then f1."tier" end as "user_stats__tier",
  f2."risk" as "merchant_profile__risk",
  case when f3."feature_ts" >= (e."__fsql_ts" - interval 1 day) then f3."pair_count" end as "pair_stats__pair_count"
from fsql_events as e
left join lateral (
  select f."user_id", f."feature_ts", f."score", f."tier"
  from "main"."user_stats" as f
  where f."user_id" = e."user_id"
    and f."feature_ts" <= e."__fsql_ts"
    and f."feature_ts" >= (e."__fsql_ts" - interval 1 hour)
    and f."user_id" is not null
    and f."feature_ts" >= timestamp '2024-03-01 08:00:00.000000'
    and f."feature_ts" <= timestamp '2024-03-01 12:00:00.500000'
  order by f."feature_ts" desc, f."loaded_at" desc nulls last, hash(f."score", f."tier") desc
  limit 1
) as f1 on true
left join lateral (
  select f."merchant_id", f."feature_ts", f."risk"
  from "main"."merchant_profile" as f
  where f."merchant_id" = e."merchant_id"
    and f."feature_ts" <= e."__fsql_ts"
    and f."merchant_id" is not null
    and f."feature_ts" <= timestamp '2024-03-01 12:00:00.500000'
  order by f."feature_ts" desc, hash(f."category", f."risk") desc
  limit 1
) as f2 on true
left join lateral (
  select f."user_id", f."merchant_id", f."feature_ts", f."pair_count"
  from "main"."pair_stats" as f
  where f."user_id" = e."user_id"
    and f."merchant_id" = e."merchant_id"
    and f."feature_ts" <= e."__fsql_ts"
    and f."feature_ts" >= (e."__fsql_ts" - interval 1 day)
    and f."user_id" is not null
    and f."merchant_id" is not null
    and f."feature_ts" >= timestamp '2024-02-29 09:00:00.000000'
    and f."feature_ts" <= timestamp '2024-03-01 12:00:00.500000'
  order by f."feature_ts" desc, hash(f."pair_count") desc
  limit 1
) as f3 on true
order by e."__fsql_row"
