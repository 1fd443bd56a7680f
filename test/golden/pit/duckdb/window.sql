with fsql_events as (
  select *, "rowid" as "__fsql_row", cast("event_timestamp" as timestamp) as "__fsql_ts"
  from "main"."fsql_events_golden"
),
fsql_match_1 as (
  select w."__fsql_row", w."__fsql_match"
  from (
    select u."__fsql_row", u."__fsql_kind", last_value(u."__fsql_match" ignore nulls) over (partition by u."__fsql_k0" order by u."__fsql_ts", u."__fsql_kind", u."__fsql_created" is not null, u."__fsql_created", u."__fsql_tie" rows between unbounded preceding and current row) as "__fsql_match"
    from (
      select f."user_id" as "__fsql_k0", f."feature_ts" as "__fsql_ts", 0 as "__fsql_kind", f."loaded_at" as "__fsql_created", hash(f."score", f."tier") as "__fsql_tie", struct_pack("t" := f."feature_ts", "f0" := f."score", "f1" := f."tier") as "__fsql_match", cast(null as bigint) as "__fsql_row"
      from "main"."user_stats" as f
      where f."user_id" is not null and f."feature_ts" >= timestamp '2024-03-01 08:00:00.000000' and f."feature_ts" <= timestamp '2024-03-01 12:00:00.500000'
      union all
      select e."user_id" as "__fsql_k0", e."__fsql_ts", 1 as "__fsql_kind", cast(null as timestamp), null, null, e."__fsql_row"
      from fsql_events as e
      where e."user_id" is not null and e."__fsql_ts" is not null
    ) as u
  ) as w
  where w."__fsql_kind" = 1
),
fsql_match_2 as (
  select w."__fsql_row", w."__fsql_match"
  from (
    select u."__fsql_row", u."__fsql_kind", last_value(u."__fsql_match" ignore nulls) over (partition by u."__fsql_k0" order by u."__fsql_ts", u."__fsql_kind", u."__fsql_created" is not null, u."__fsql_created", u."__fsql_tie" rows between unbounded preceding and current row) as "__fsql_match"
    from (
      select f."merchant_id" as "__fsql_k0", f."feature_ts" as "__fsql_ts", 0 as "__fsql_kind", cast(null as timestamp) as "__fsql_created", hash(f."category", f."risk") as "__fsql_tie", struct_pack("t" := f."feature_ts", "f0" := f."risk") as "__fsql_match", cast(null as bigint) as "__fsql_row"
      from "main"."merchant_profile" as f
      where f."merchant_id" is not null and f."feature_ts" <= timestamp '2024-03-01 12:00:00.500000'
      union all
      select e."merchant_id" as "__fsql_k0", e."__fsql_ts", 1 as "__fsql_kind", cast(null as timestamp), null, null, e."__fsql_row"
      from fsql_events as e
      where e."merchant_id" is not null and e."__fsql_ts" is not null
    ) as u
  ) as w
  where w."__fsql_kind" = 1
),
fsql_match_3 as (
  select w."__fsql_row", w."__fsql_match"
  from (
    select u."__fsql_row", u."__fsql_kind", last_value(u."__fsql_match" ignore nulls) over (partition by u."__fsql_k0", u."__fsql_k1" order by u."__fsql_ts", u."__fsql_kind", u."__fsql_created" is not null, u."__fsql_created", u."__fsql_tie" rows between unbounded preceding and current row) as "__fsql_match"
    from (
      select f."user_id" as "__fsql_k0", f."merchant_id" as "__fsql_k1", f."feature_ts" as "__fsql_ts", 0 as "__fsql_kind", cast(null as timestamp) as "__fsql_created", hash(f."pair_count") as "__fsql_tie", struct_pack("t" := f."feature_ts", "f0" := f."pair_count") as "__fsql_match", cast(null as bigint) as "__fsql_row"
      from "main"."pair_stats" as f
      where f."user_id" is not null and f."merchant_id" is not null and f."feature_ts" >= timestamp '2024-02-29 09:00:00.000000' and f."feature_ts" <= timestamp '2024-03-01 12:00:00.500000'
      union all
      select e."user_id" as "__fsql_k0", e."merchant_id" as "__fsql_k1", e."__fsql_ts", 1 as "__fsql_kind", cast(null as timestamp), null, null, e."__fsql_row"
      from fsql_events as e
      where e."user_id" is not null and e."merchant_id" is not null and e."__fsql_ts" is not null
    ) as u
  ) as w
  where w."__fsql_kind" = 1
)
select
  e.* exclude ("__fsql_row", "__fsql_ts"),
  case when (m1."__fsql_match")."t" >= (e."__fsql_ts" - interval 1 hour) then (m1."__fsql_match")."f0" end as "user_stats__score",
  case when (m1."__fsql_match")."t" >= (e."__fsql_ts" - interval 1 hour) then (m1."__fsql_match")."f1" end as "user_stats__tier",
  (m2."__fsql_match")."f0" as "merchant_profile__risk",
  case when (m3."__fsql_match")."t" >= (e."__fsql_ts" - interval 1 day) then (m3."__fsql_match")."f0" end as "pair_stats__pair_count"
from fsql_events as e
left join fsql_match_1 as m1 on m1."__fsql_row" = e."__fsql_row"
left join fsql_match_2 as m2 on m2."__fsql_row" = e."__fsql_row"
left join fsql_match_3 as m3 on m3."__fsql_row" = e."__fsql_row"
order by e."__fsql_row"
