-- fsql train --service training: target prod (bigquery), window strategy
-- Event columns are not read in a dry run: join keys are assumed to have the views' names.
-- 1. stage the events (table:events)
create or replace table `acme-ml.features.fsql_events_dry_run` as
select *, row_number() over () as `__fsql_row` from `acme-ml.features.events`;
-- 2. the event time range; a run reads it first and prunes feature rows with literal bounds (here: subqueries)
select min(cast(`event_timestamp` as TIMESTAMP)) as min_ts, max(cast(`event_timestamp` as TIMESTAMP)) as max_ts from `acme-ml.features.fsql_events_dry_run`;
-- 3. the training table -> table:training_set
create or replace table `acme-ml.features.training_set` as
with fsql_events as (
  select *, cast(`event_timestamp` as TIMESTAMP) as `__fsql_ts`
  from `acme-ml.features.fsql_events_dry_run`
),
fsql_match_1 as (
  select w.`__fsql_row`, w.`__fsql_match`
  from (
    select u.`__fsql_row`, u.`__fsql_kind`, last_value(u.`__fsql_match` ignore nulls) over (partition by u.`__fsql_k0` order by u.`__fsql_ts`, u.`__fsql_kind`, u.`__fsql_created` is not null, u.`__fsql_created`, u.`__fsql_tie` rows between unbounded preceding and current row) as `__fsql_match`
    from (
      select f.`user_id` as `__fsql_k0`, f.`feature_ts` as `__fsql_ts`, 0 as `__fsql_kind`, f.`loaded_at` as `__fsql_created`, farm_fingerprint(to_json_string(struct(f.`score` as _0, f.`tier` as _1))) as `__fsql_tie`, struct(f.`feature_ts` as `t`, f.`score` as `f0`, f.`tier` as `f1`) as `__fsql_match`, cast(null as INT64) as `__fsql_row`
      from `acme-ml.features.user_stats` as f
      where f.`user_id` is not null and f.`feature_ts` >= timestamp_sub((select min(`__fsql_ts`) from fsql_events), interval 1 hour) and f.`feature_ts` <= (select max(`__fsql_ts`) from fsql_events)
      union all
      select e.`user_id` as `__fsql_k0`, e.`__fsql_ts`, 1 as `__fsql_kind`, cast(null as TIMESTAMP), null, null, e.`__fsql_row`
      from fsql_events as e
      where e.`user_id` is not null and e.`__fsql_ts` is not null
    ) as u
  ) as w
  where w.`__fsql_kind` = 1
),
fsql_match_2 as (
  select w.`__fsql_row`, w.`__fsql_match`
  from (
    select u.`__fsql_row`, u.`__fsql_kind`, last_value(u.`__fsql_match` ignore nulls) over (partition by u.`__fsql_k0` order by u.`__fsql_ts`, u.`__fsql_kind`, u.`__fsql_created` is not null, u.`__fsql_created`, u.`__fsql_tie` rows between unbounded preceding and current row) as `__fsql_match`
    from (
      select f.`merchant_id` as `__fsql_k0`, f.`feature_ts` as `__fsql_ts`, 0 as `__fsql_kind`, cast(null as TIMESTAMP) as `__fsql_created`, farm_fingerprint(to_json_string(struct(f.`category` as _0, f.`risk` as _1))) as `__fsql_tie`, struct(f.`feature_ts` as `t`, f.`risk` as `f0`) as `__fsql_match`, cast(null as INT64) as `__fsql_row`
      from `acme-ml.features.merchant_profile` as f
      where f.`merchant_id` is not null and f.`feature_ts` <= (select max(`__fsql_ts`) from fsql_events)
      union all
      select e.`merchant_id` as `__fsql_k0`, e.`__fsql_ts`, 1 as `__fsql_kind`, cast(null as TIMESTAMP), null, null, e.`__fsql_row`
      from fsql_events as e
      where e.`merchant_id` is not null and e.`__fsql_ts` is not null
    ) as u
  ) as w
  where w.`__fsql_kind` = 1
),
fsql_match_3 as (
  select w.`__fsql_row`, w.`__fsql_match`
  from (
    select u.`__fsql_row`, u.`__fsql_kind`, last_value(u.`__fsql_match` ignore nulls) over (partition by u.`__fsql_k0`, u.`__fsql_k1` order by u.`__fsql_ts`, u.`__fsql_kind`, u.`__fsql_created` is not null, u.`__fsql_created`, u.`__fsql_tie` rows between unbounded preceding and current row) as `__fsql_match`
    from (
      select f.`user_id` as `__fsql_k0`, f.`merchant_id` as `__fsql_k1`, f.`feature_ts` as `__fsql_ts`, 0 as `__fsql_kind`, cast(null as TIMESTAMP) as `__fsql_created`, farm_fingerprint(to_json_string(struct(f.`pair_count` as _0))) as `__fsql_tie`, struct(f.`feature_ts` as `t`, f.`pair_count` as `f0`) as `__fsql_match`, cast(null as INT64) as `__fsql_row`
      from `acme-ml.features.pair_stats` as f
      where f.`user_id` is not null and f.`merchant_id` is not null and f.`feature_ts` >= timestamp_sub((select min(`__fsql_ts`) from fsql_events), interval 1 day) and f.`feature_ts` <= (select max(`__fsql_ts`) from fsql_events)
      union all
      select e.`user_id` as `__fsql_k0`, e.`merchant_id` as `__fsql_k1`, e.`__fsql_ts`, 1 as `__fsql_kind`, cast(null as TIMESTAMP), null, null, e.`__fsql_row`
      from fsql_events as e
      where e.`user_id` is not null and e.`merchant_id` is not null and e.`__fsql_ts` is not null
    ) as u
  ) as w
  where w.`__fsql_kind` = 1
)
select
  e.* except (`__fsql_row`, `__fsql_ts`),
  case when m1.`__fsql_match`.`t` >= timestamp_sub(e.`__fsql_ts`, interval 1 hour) then m1.`__fsql_match`.`f0` end as `user_stats__score`,
  case when m1.`__fsql_match`.`t` >= timestamp_sub(e.`__fsql_ts`, interval 1 hour) then m1.`__fsql_match`.`f1` end as `user_stats__tier`,
  m2.`__fsql_match`.`f0` as `merchant_profile__risk`,
  case when m3.`__fsql_match`.`t` >= timestamp_sub(e.`__fsql_ts`, interval 1 day) then m3.`__fsql_match`.`f0` end as `pair_stats__pair_count`
from fsql_events as e
left join fsql_match_1 as m1 on m1.`__fsql_row` = e.`__fsql_row`
left join fsql_match_2 as m2 on m2.`__fsql_row` = e.`__fsql_row`
left join fsql_match_3 as m3 on m3.`__fsql_row` = e.`__fsql_row`;
-- 4. clean up
drop table if exists `acme-ml.features.fsql_events_dry_run`;
