-- full build: the per-tile relations found dropped, the events written
drop table if exists `acme.features.user_spend__tiles`;
drop table if exists `acme.features.user_spend__distinct__merchant_id`;
drop table if exists `acme.features.user_spend__ends__amount`;
create or replace table `acme.features.user_spend`
partition by timestamp_trunc(`ts`, day)
cluster by `user_id`, `__fsql_tile` as
select s.*, div((unix_micros(s.`ts`)) - mod(mod(unix_micros(s.`ts`), 3600000000) + 3600000000, 3600000000), 3600000000) as `__fsql_tile`
from (
select user_id, ts, amount, merchant_id from `acme.raw.transactions`
) as s
where s.`ts` is not null and s.`user_id` is not null;
-- how many rows fill how many (keys, tile): the full build's choice of per-tile tables or per-row views
select count(*) as `rows`, approx_count_distinct(farm_fingerprint(to_json_string(struct(r.`user_id` as _0, r.`__fsql_tile` as _1)))) as `tiles`
from `acme.features.user_spend` as r;
-- per-tile tables
create or replace table `acme.features.user_spend__tiles`
cluster by `user_id`, `__fsql_tile` as
select r.`user_id`, r.`__fsql_tile`, count(*) as `fsql_rows`, count(r.`amount`) as `fsql_n_0`, sum(r.`amount`) as `fsql_s_0`, avg(cast(r.`amount` as FLOAT64)) as `fsql_mean_0`, var_pop(cast(r.`amount` as FLOAT64)) * count(r.`amount`) as `fsql_m2_0`, max(r.`amount`) as `fsql_max_0`, min(case when r.`amount` is not null then r.`ts` end) as `fsql_fts_0`, min(case when r.`ts` = r.`fsql_gfirst_0` then r.`amount` end) as `fsql_fv_0`
from (
  select r.*, min(case when r.`amount` is not null then r.`ts` end) over (partition by r.`user_id`, r.`__fsql_tile`) as `fsql_gfirst_0`
  from `acme.features.user_spend` as r
  where true
) as r
group by r.`user_id`, r.`__fsql_tile`;
create or replace table `acme.features.user_spend__distinct__merchant_id`
cluster by `user_id`, `__fsql_tile` as
select distinct r.`user_id`, r.`__fsql_tile`, r.`merchant_id` as v
from `acme.features.user_spend` as r
where true and r.`merchant_id` is not null;
create or replace table `acme.features.user_spend__ends__amount`
cluster by `user_id`, `__fsql_tile` as
select r.`user_id`, r.`__fsql_tile`, r.`ts` as ts, r.`amount` as v
from (
  select r.`user_id`, r.`__fsql_tile`, r.`ts`, r.`amount`, row_number() over (partition by r.`user_id`, r.`__fsql_tile` order by r.`ts` desc, r.`amount` desc) as fsql_last
  from `acme.features.user_spend` as r
  where true and r.`amount` is not null
) as r
where r.fsql_last <= 5;
-- or per-row views
create or replace view `acme.features.user_spend__tiles` as
select r.`user_id`, r.`__fsql_tile`, 1 as `fsql_rows`, case when r.`amount` is not null then 1 else 0 end as `fsql_n_0`, r.`amount` as `fsql_s_0`, cast(r.`amount` as FLOAT64) as `fsql_mean_0`, case when r.`amount` is not null then cast(0 as FLOAT64) end as `fsql_m2_0`, r.`amount` as `fsql_max_0`, case when r.`amount` is not null then r.`ts` end as `fsql_fts_0`, r.`amount` as `fsql_fv_0`, r.`ts` as `fsql_row_ts`
from `acme.features.user_spend` as r;
create or replace view `acme.features.user_spend__distinct__merchant_id` as
select r.`user_id`, r.`__fsql_tile`, r.`merchant_id` as v, r.`ts` as `fsql_row_ts`
from `acme.features.user_spend` as r
where r.`merchant_id` is not null;
create or replace view `acme.features.user_spend__ends__amount` as
select r.`user_id`, r.`__fsql_tile`, r.`ts` as ts, r.`amount` as v, r.`ts` as `fsql_row_ts`
from `acme.features.user_spend` as r
where r.`amount` is not null;
-- incremental run from 2024-04-01 00:30:00
begin transaction;
merge into `acme.features.user_spend` as fsql_t
using (
select * from (
select s.*, div((unix_micros(s.`ts`)) - mod(mod(unix_micros(s.`ts`), 3600000000) + 3600000000, 3600000000), 3600000000) as `__fsql_tile`
from (
select user_id, ts, amount, merchant_id from `acme.raw.transactions`
) as s
where s.`ts` is not null and s.`user_id` is not null
) where `ts` >= timestamp '2024-04-01 00:30:00.000000+00'
) as fsql_s
on false
when not matched by source and fsql_t.`ts` >= timestamp '2024-04-01 00:30:00.000000+00' then delete
when not matched then insert row;
delete from `acme.features.user_spend__tiles` where `__fsql_tile` >= 475536;
insert into `acme.features.user_spend__tiles`
select r.`user_id`, r.`__fsql_tile`, count(*) as `fsql_rows`, count(r.`amount`) as `fsql_n_0`, sum(r.`amount`) as `fsql_s_0`, avg(cast(r.`amount` as FLOAT64)) as `fsql_mean_0`, var_pop(cast(r.`amount` as FLOAT64)) * count(r.`amount`) as `fsql_m2_0`, max(r.`amount`) as `fsql_max_0`, min(case when r.`amount` is not null then r.`ts` end) as `fsql_fts_0`, min(case when r.`ts` = r.`fsql_gfirst_0` then r.`amount` end) as `fsql_fv_0`
from (
  select r.*, min(case when r.`amount` is not null then r.`ts` end) over (partition by r.`user_id`, r.`__fsql_tile`) as `fsql_gfirst_0`
  from `acme.features.user_spend` as r
  where r.`__fsql_tile` >= 475536 and r.`ts` >= timestamp '2024-04-01 00:00:00.000000+00'
) as r
group by r.`user_id`, r.`__fsql_tile`;
delete from `acme.features.user_spend__distinct__merchant_id` where `__fsql_tile` >= 475536;
insert into `acme.features.user_spend__distinct__merchant_id`
select distinct r.`user_id`, r.`__fsql_tile`, r.`merchant_id` as v
from `acme.features.user_spend` as r
where r.`__fsql_tile` >= 475536 and r.`ts` >= timestamp '2024-04-01 00:00:00.000000+00' and r.`merchant_id` is not null;
delete from `acme.features.user_spend__ends__amount` where `__fsql_tile` >= 475536;
insert into `acme.features.user_spend__ends__amount`
select r.`user_id`, r.`__fsql_tile`, r.`ts` as ts, r.`amount` as v
from (
  select r.`user_id`, r.`__fsql_tile`, r.`ts`, r.`amount`, row_number() over (partition by r.`user_id`, r.`__fsql_tile` order by r.`ts` desc, r.`amount` desc) as fsql_last
  from `acme.features.user_spend` as r
  where r.`__fsql_tile` >= 475536 and r.`ts` >= timestamp '2024-04-01 00:00:00.000000+00' and r.`amount` is not null
) as r
where r.fsql_last <= 5;
commit;
-- training query
with fsql_events as (
  select *, cast(`event_timestamp` as TIMESTAMP) as `__fsql_ts`
  from `acme.features.fsql_events`
),
fsql_a0 as (
  select e.`__fsql_row`, e.`user_id` as `user_id`, e.`__fsql_ts`, unix_micros(e.`__fsql_ts`) as `fsql_us`, div((unix_micros(e.`__fsql_ts`)) - mod(mod(unix_micros(e.`__fsql_ts`), 3600000000) + 3600000000, 3600000000), 3600000000) as `fsql_tile`, div((unix_micros(e.`__fsql_ts`) - 3600000000) - mod(mod(unix_micros(e.`__fsql_ts`) - 3600000000, 3600000000) + 3600000000, 3600000000), 3600000000) as `fsql_edge_0`, div((unix_micros(e.`__fsql_ts`) - 3600000000) - mod(mod(unix_micros(e.`__fsql_ts`) - 3600000000, 3600000000) + 3600000000, 3600000000), 3600000000) + case when (div((unix_micros(e.`__fsql_ts`) - 3600000000) - mod(mod(unix_micros(e.`__fsql_ts`) - 3600000000, 3600000000) + 3600000000, 3600000000), 3600000000)) * 3600000000 = unix_micros(e.`__fsql_ts`) - 3600000000 then 0 else 1 end as `fsql_lo_0`, div((unix_micros(e.`__fsql_ts`) - 604800000000) - mod(mod(unix_micros(e.`__fsql_ts`) - 604800000000, 3600000000) + 3600000000, 3600000000), 3600000000) as `fsql_edge_1`, div((unix_micros(e.`__fsql_ts`) - 604800000000) - mod(mod(unix_micros(e.`__fsql_ts`) - 604800000000, 3600000000) + 3600000000, 3600000000), 3600000000) + case when (div((unix_micros(e.`__fsql_ts`) - 604800000000) - mod(mod(unix_micros(e.`__fsql_ts`) - 604800000000, 3600000000) + 3600000000, 3600000000), 3600000000)) * 3600000000 = unix_micros(e.`__fsql_ts`) - 604800000000 then 0 else 1 end as `fsql_lo_1`, div((unix_micros(e.`__fsql_ts`) - 2592000000000) - mod(mod(unix_micros(e.`__fsql_ts`) - 2592000000000, 3600000000) + 3600000000, 3600000000), 3600000000) as `fsql_edge_2`, div((unix_micros(e.`__fsql_ts`) - 2592000000000) - mod(mod(unix_micros(e.`__fsql_ts`) - 2592000000000, 3600000000) + 3600000000, 3600000000), 3600000000) + case when (div((unix_micros(e.`__fsql_ts`) - 2592000000000) - mod(mod(unix_micros(e.`__fsql_ts`) - 2592000000000, 3600000000) + 3600000000, 3600000000), 3600000000)) * 3600000000 = unix_micros(e.`__fsql_ts`) - 2592000000000 then 0 else 1 end as `fsql_lo_2`
  from fsql_events as e
  where e.`user_id` is not null and e.`__fsql_ts` is not null
),
fsql_a0_w1_e_amount as (
  select * from (
    select e.`__fsql_row`, s.ts, s.v
    from fsql_a0 as e join `acme.features.user_spend__ends__amount` as s on s.`user_id` = e.`user_id` and s.`__fsql_tile` >= e.`fsql_lo_1` and s.`__fsql_tile` < e.`fsql_tile`
    union all
    select e.`__fsql_row`, r.`ts` as ts, r.`amount` as v
    from fsql_a0 as e join `acme.features.user_spend` as r on r.`user_id` = e.`user_id` and r.`__fsql_tile` = e.`fsql_tile` and r.`ts` < e.`__fsql_ts` and r.`ts` >= timestamp_sub(e.`__fsql_ts`, interval 7 day) and r.`amount` is not null
    union all
    select e.`__fsql_row`, r.`ts` as ts, r.`amount` as v
    from fsql_a0 as e join `acme.features.user_spend` as r on r.`user_id` = e.`user_id` and r.`__fsql_tile` = e.`fsql_edge_1` and e.`fsql_edge_1` < e.`fsql_lo_1` and e.`fsql_edge_1` < e.`fsql_tile` and r.`ts` >= timestamp_sub(e.`__fsql_ts`, interval 7 day) and r.`amount` is not null
  ) as p
),
fsql_a0_w1_e_amount_0 as (
  select p.`__fsql_row`, array_agg(p.v order by p.ts, p.v) as `last_5_amounts`
  from (
    select c.*, row_number() over (partition by c.`__fsql_row` order by c.ts desc, c.v desc) as fsql_rank
    from fsql_a0_w1_e_amount as c
  ) as p
  where p.fsql_rank <= 5
  group by p.`__fsql_row`
),
fsql_a0_w3 as (
  select p.`__fsql_row`, safe_divide(sum(p.`fsql_s_0`), sum(p.`fsql_n_0`)) as `amount_avg_lifetime`
  from (
    select e.`__fsql_row`, s.`fsql_rows`, s.`fsql_n_0`, s.`fsql_s_0`
    from fsql_a0 as e join `acme.features.user_spend__tiles` as s on s.`user_id` = e.`user_id` and s.`__fsql_tile` < e.`fsql_tile`
    union all
    select e.`__fsql_row`, 1 as `fsql_rows`, case when r.`amount` is not null then 1 else 0 end as `fsql_n_0`, r.`amount` as `fsql_s_0`
    from fsql_a0 as e join `acme.features.user_spend` as r on r.`user_id` = e.`user_id` and r.`__fsql_tile` = e.`fsql_tile` and r.`ts` < e.`__fsql_ts`
  ) as p
  group by p.`__fsql_row`
),
fsql_a0_s as (
  select p.`__fsql_row`, sum(case when p.`fsql_in_0` then p.`fsql_rows` end) as `count_1h`, sum(case when p.`fsql_in_0` then p.`fsql_s_0` end) as `amount_sum_1h`, sum(case when p.`fsql_in_1` then p.`fsql_s_0` end) as `amount_sum_7d`, case when sum(case when p.`fsql_in_0` then p.`fsql_n_0` end) > 1 then sqrt((sum(case when p.`fsql_in_0` then p.`fsql_m2_0` end) + sum(cast(case when p.`fsql_in_0` then p.`fsql_n_0` end as FLOAT64) * (case when p.`fsql_in_0` then p.`fsql_mean_0` end - p.`fsql_gmean_0_w0`) * (case when p.`fsql_in_0` then p.`fsql_mean_0` end - p.`fsql_gmean_0_w0`))) / (cast(sum(case when p.`fsql_in_0` then p.`fsql_n_0` end) as FLOAT64) - 1)) end as `amount_stddev_samp_1h`, case when sum(case when p.`fsql_in_1` then p.`fsql_n_0` end) > 1 then sqrt((sum(case when p.`fsql_in_1` then p.`fsql_m2_0` end) + sum(cast(case when p.`fsql_in_1` then p.`fsql_n_0` end as FLOAT64) * (case when p.`fsql_in_1` then p.`fsql_mean_0` end - p.`fsql_gmean_0_w1`) * (case when p.`fsql_in_1` then p.`fsql_mean_0` end - p.`fsql_gmean_0_w1`))) / (cast(sum(case when p.`fsql_in_1` then p.`fsql_n_0` end) as FLOAT64) - 1)) end as `amount_stddev_samp_7d`, max(case when p.`fsql_in_0` then p.`fsql_max_0` end) as `amount_max_1h`, max(case when p.`fsql_in_1` then p.`fsql_max_0` end) as `amount_max_7d`, min(case when case when p.`fsql_in_0` then p.`fsql_fts_0` end = p.`fsql_gfirst_0_w0` then case when p.`fsql_in_0` then p.`fsql_fv_0` end end) as `amount_first_1h`, min(case when case when p.`fsql_in_1` then p.`fsql_fts_0` end = p.`fsql_gfirst_0_w1` then case when p.`fsql_in_1` then p.`fsql_fv_0` end end) as `amount_first_7d`
  from (
  select p.*, safe_divide(sum(case when p.`fsql_in_0` then p.`fsql_n_0` end * case when p.`fsql_in_0` then p.`fsql_mean_0` end) over (partition by p.`__fsql_row`), sum(case when p.`fsql_in_0` then p.`fsql_n_0` end) over (partition by p.`__fsql_row`)) as `fsql_gmean_0_w0`, min(case when p.`fsql_in_0` then p.`fsql_fts_0` end) over (partition by p.`__fsql_row`) as `fsql_gfirst_0_w0`, safe_divide(sum(case when p.`fsql_in_1` then p.`fsql_n_0` end * case when p.`fsql_in_1` then p.`fsql_mean_0` end) over (partition by p.`__fsql_row`), sum(case when p.`fsql_in_1` then p.`fsql_n_0` end) over (partition by p.`__fsql_row`)) as `fsql_gmean_0_w1`, min(case when p.`fsql_in_1` then p.`fsql_fts_0` end) over (partition by p.`__fsql_row`) as `fsql_gfirst_0_w1`
  from (
    select e.`__fsql_row`, s.`fsql_rows`, s.`fsql_n_0`, s.`fsql_s_0`, s.`fsql_mean_0`, s.`fsql_m2_0`, s.`fsql_max_0`, s.`fsql_fts_0`, s.`fsql_fv_0`, s.`__fsql_tile` >= e.`fsql_lo_0` as `fsql_in_0`, s.`__fsql_tile` >= e.`fsql_lo_1` as `fsql_in_1`
    from fsql_a0 as e join `acme.features.user_spend__tiles` as s on s.`user_id` = e.`user_id` and s.`__fsql_tile` >= e.`fsql_lo_1` and s.`__fsql_tile` < e.`fsql_tile`
    union all
    select e.`__fsql_row`, 1 as `fsql_rows`, case when r.`amount` is not null then 1 else 0 end as `fsql_n_0`, r.`amount` as `fsql_s_0`, cast(r.`amount` as FLOAT64) as `fsql_mean_0`, case when r.`amount` is not null then cast(0 as FLOAT64) end as `fsql_m2_0`, r.`amount` as `fsql_max_0`, case when r.`amount` is not null then r.`ts` end as `fsql_fts_0`, r.`amount` as `fsql_fv_0`, r.`ts` >= timestamp_sub(e.`__fsql_ts`, interval 1 hour) as `fsql_in_0`, r.`ts` >= timestamp_sub(e.`__fsql_ts`, interval 7 day) as `fsql_in_1`
    from fsql_a0 as e join `acme.features.user_spend` as r on r.`user_id` = e.`user_id` and r.`__fsql_tile` = e.`fsql_tile` and r.`ts` < e.`__fsql_ts` and r.`ts` >= timestamp_sub(e.`__fsql_ts`, interval 7 day)
    union all
    select e.`__fsql_row`, 1 as `fsql_rows`, case when r.`amount` is not null then 1 else 0 end as `fsql_n_0`, r.`amount` as `fsql_s_0`, cast(r.`amount` as FLOAT64) as `fsql_mean_0`, case when r.`amount` is not null then cast(0 as FLOAT64) end as `fsql_m2_0`, r.`amount` as `fsql_max_0`, case when r.`amount` is not null then r.`ts` end as `fsql_fts_0`, r.`amount` as `fsql_fv_0`, e.fsql_w = 0 as `fsql_in_0`, e.fsql_w = 1 as `fsql_in_1`
    from (
      select e.*, ws.fsql_w, case ws.fsql_w when 0 then e.`fsql_edge_0` when 1 then e.`fsql_edge_1` end as fsql_edge, case ws.fsql_w when 0 then timestamp_sub(e.`__fsql_ts`, interval 1 hour) when 1 then timestamp_sub(e.`__fsql_ts`, interval 7 day) end as fsql_from
      from fsql_a0 as e cross join (select 0 as fsql_w union all select 1 as fsql_w) as ws
    ) as e join `acme.features.user_spend` as r on r.`user_id` = e.`user_id` and r.`__fsql_tile` = e.fsql_edge and r.`ts` >= e.fsql_from and (case e.fsql_w when 0 then e.`fsql_edge_0` < e.`fsql_lo_0` and e.`fsql_edge_0` < e.`fsql_tile` when 1 then e.`fsql_edge_1` < e.`fsql_lo_1` and e.`fsql_edge_1` < e.`fsql_tile` end)
  ) as p
) as p
  group by p.`__fsql_row`
),
fsql_a0_d_merchant_id as (
  select p.`__fsql_row`, count(distinct case when p.`fsql_in_2` then p.v end) as `merchant_id_count_distinct_30d`
  from (
    select e.`__fsql_row`, s.v, s.`__fsql_tile` >= e.`fsql_lo_2` as `fsql_in_2`
    from fsql_a0 as e join `acme.features.user_spend__distinct__merchant_id` as s on s.`user_id` = e.`user_id` and s.`__fsql_tile` >= e.`fsql_lo_2` and s.`__fsql_tile` < e.`fsql_tile`
    union all
    select e.`__fsql_row`, r.`merchant_id` as v, r.`ts` >= timestamp_sub(e.`__fsql_ts`, interval 30 day) as `fsql_in_2`
    from fsql_a0 as e join `acme.features.user_spend` as r on r.`user_id` = e.`user_id` and r.`__fsql_tile` = e.`fsql_tile` and r.`ts` < e.`__fsql_ts` and r.`ts` >= timestamp_sub(e.`__fsql_ts`, interval 30 day) and r.`merchant_id` is not null
    union all
    select e.`__fsql_row`, r.`merchant_id` as v, e.fsql_w = 2 as `fsql_in_2`
    from (
      select e.*, ws.fsql_w, case ws.fsql_w when 2 then e.`fsql_edge_2` end as fsql_edge, case ws.fsql_w when 2 then timestamp_sub(e.`__fsql_ts`, interval 30 day) end as fsql_from
      from fsql_a0 as e cross join (select 2 as fsql_w) as ws
    ) as e join `acme.features.user_spend` as r on r.`user_id` = e.`user_id` and r.`__fsql_tile` = e.fsql_edge and r.`ts` >= e.fsql_from and (case e.fsql_w when 2 then e.`fsql_edge_2` < e.`fsql_lo_2` and e.`fsql_edge_2` < e.`fsql_tile` end) and r.`merchant_id` is not null
  ) as p
  group by p.`__fsql_row`
)
select
  e.* except (`__fsql_row`, `__fsql_ts`),
  cast(case when e.`user_id` is not null and e.`__fsql_ts` is not null then coalesce(fsql_a0_s.`count_1h`, 0) end as INT64) as `user_spend__count_1h`,
  cast(case when e.`user_id` is not null and e.`__fsql_ts` is not null then coalesce(fsql_a0_s.`amount_sum_1h`, 0) end as FLOAT64) as `user_spend__amount_sum_1h`,
  cast(case when e.`user_id` is not null and e.`__fsql_ts` is not null then coalesce(fsql_a0_s.`amount_sum_7d`, 0) end as FLOAT64) as `user_spend__amount_sum_7d`,
  cast(fsql_a0_s.`amount_stddev_samp_1h` as FLOAT64) as `user_spend__amount_stddev_samp_1h`,
  cast(fsql_a0_s.`amount_stddev_samp_7d` as FLOAT64) as `user_spend__amount_stddev_samp_7d`,
  cast(fsql_a0_s.`amount_max_1h` as FLOAT64) as `user_spend__amount_max_1h`,
  cast(fsql_a0_s.`amount_max_7d` as FLOAT64) as `user_spend__amount_max_7d`,
  cast(fsql_a0_s.`amount_first_1h` as FLOAT64) as `user_spend__amount_first_1h`,
  cast(fsql_a0_s.`amount_first_7d` as FLOAT64) as `user_spend__amount_first_7d`,
  cast(case when e.`user_id` is not null and e.`__fsql_ts` is not null then coalesce(fsql_a0_d_merchant_id.`merchant_id_count_distinct_30d`, 0) end as INT64) as `user_spend__merchant_id_count_distinct_30d`,
  case when e.`user_id` is not null and e.`__fsql_ts` is not null then coalesce(fsql_a0_w1_e_amount_0.`last_5_amounts`, []) end as `user_spend__last_5_amounts`,
  cast(fsql_a0_w3.`amount_avg_lifetime` as FLOAT64) as `user_spend__amount_avg_lifetime`
from fsql_events as e
left join fsql_a0_w1_e_amount_0 on fsql_a0_w1_e_amount_0.`__fsql_row` = e.`__fsql_row`
left join fsql_a0_w3 on fsql_a0_w3.`__fsql_row` = e.`__fsql_row`
left join fsql_a0_s on fsql_a0_s.`__fsql_row` = e.`__fsql_row`
left join fsql_a0_d_merchant_id on fsql_a0_d_merchant_id.`__fsql_row` = e.`__fsql_row`
order by e.`__fsql_row`;
-- sync query at 2024-04-01 00:30:00
select * from (
select r.`user_id` as `user_id`, 0 as `fsql_kind`, cast(null as INT64) as `fsql_w`, cast(null as INT64) as `fsql_c`, cast(null as TIMESTAMP) as `fsql_ts`, cast(null as FLOAT64) as `fsql_v_0`, cast(null as STRING) as `fsql_v_1`, cast(r.`fsql_n_1_0` as INT64) as `fsql_n_1_0`, cast(r.`fsql_s_1_0` as FLOAT64) as `fsql_s_1_0`, cast(r.`fsql_mean_1_0` as FLOAT64) as `fsql_mean_1_0`, cast(r.`fsql_m2_1_0` as FLOAT64) as `fsql_m2_1_0`, cast(r.`fsql_max_1_0` as FLOAT64) as `fsql_max_1_0`, cast(r.`fsql_n_2_1` as INT64) as `fsql_n_2_1`, cast(r.`fsql_n_3_0` as INT64) as `fsql_n_3_0`, cast(r.`fsql_s_3_0` as FLOAT64) as `fsql_s_3_0`, `fsql_d_2_1`.fsql_list as `fsql_d_2_1`
from (
  select r.`user_id` as `user_id`, count(case when r.`ts` >= timestamp '2024-03-26 00:30:00.000000+00' and r.`ts` < timestamp '2024-04-01 00:30:00.000000+00' then r.`amount` end) as `fsql_n_1_0`, sum(case when r.`ts` >= timestamp '2024-03-26 00:30:00.000000+00' and r.`ts` < timestamp '2024-04-01 00:30:00.000000+00' then r.`amount` end) as `fsql_s_1_0`, avg(cast(case when r.`ts` >= timestamp '2024-03-26 00:30:00.000000+00' and r.`ts` < timestamp '2024-04-01 00:30:00.000000+00' then r.`amount` end as FLOAT64)) as `fsql_mean_1_0`, var_pop(cast(case when r.`ts` >= timestamp '2024-03-26 00:30:00.000000+00' and r.`ts` < timestamp '2024-04-01 00:30:00.000000+00' then r.`amount` end as FLOAT64)) * count(case when r.`ts` >= timestamp '2024-03-26 00:30:00.000000+00' and r.`ts` < timestamp '2024-04-01 00:30:00.000000+00' then r.`amount` end) as `fsql_m2_1_0`, max(case when r.`ts` >= timestamp '2024-03-26 00:30:00.000000+00' and r.`ts` < timestamp '2024-04-01 00:30:00.000000+00' then r.`amount` end) as `fsql_max_1_0`, count(case when r.`ts` >= timestamp '2024-03-03 00:30:00.000000+00' and r.`ts` < timestamp '2024-04-01 00:30:00.000000+00' then r.`merchant_id` end) as `fsql_n_2_1`, count(case when r.`ts` < timestamp '2024-04-01 00:30:00.000000+00' then r.`amount` end) as `fsql_n_3_0`, sum(case when r.`ts` < timestamp '2024-04-01 00:30:00.000000+00' then r.`amount` end) as `fsql_s_3_0`
  from `acme.features.user_spend` as r
  where r.`ts` < timestamp '2024-04-01 00:30:00.000000+00'
  group by r.`user_id`
) as r
left join (
    select r.`user_id`, to_json_string(array_agg(distinct r.`merchant_id` ignore nulls order by r.`merchant_id`)) as fsql_list
    from `acme.features.user_spend` as r
    where r.`ts` >= timestamp '2024-03-03 00:30:00.000000+00' and r.`ts` < timestamp '2024-04-01 00:30:00.000000+00' and r.`merchant_id` is not null
    group by r.`user_id`
  ) as `fsql_d_2_1` on `fsql_d_2_1`.`user_id` = r.`user_id`
union all
select r.`user_id` as `user_id`, 1 as `fsql_kind`, cast(null as INT64) as `fsql_w`, cast(null as INT64) as `fsql_c`, r.`ts` as `fsql_ts`, r.`amount` as `fsql_v_0`, r.`merchant_id` as `fsql_v_1`, cast(null as INT64) as `fsql_n_1_0`, cast(null as FLOAT64) as `fsql_s_1_0`, cast(null as FLOAT64) as `fsql_mean_1_0`, cast(null as FLOAT64) as `fsql_m2_1_0`, cast(null as FLOAT64) as `fsql_max_1_0`, cast(null as INT64) as `fsql_n_2_1`, cast(null as INT64) as `fsql_n_3_0`, cast(null as FLOAT64) as `fsql_s_3_0`, null as `fsql_d_2_1`
from `acme.features.user_spend` as r
where (r.`ts` >= timestamp '2024-03-31 23:30:00.000000+00' and r.`ts` < timestamp '2024-04-01 00:30:00.000000+00') or (r.`ts` >= timestamp '2024-03-25 00:30:00.000000+00' and r.`ts` < timestamp '2024-03-26 00:30:00.000000+00') or (r.`ts` >= timestamp '2024-03-02 00:30:00.000000+00' and r.`ts` < timestamp '2024-03-03 00:30:00.000000+00') or (r.`ts` >= timestamp '2024-04-01 00:30:00.000000+00' and r.`ts` < timestamp '2024-04-02 00:30:00.000000+00')
union all
select r.`user_id` as `user_id`, 2 as `fsql_kind`, cast(1 as INT64) as `fsql_w`, cast(0 as INT64) as `fsql_c`, r.`ts` as `fsql_ts`, r.`amount` as `fsql_v_0`, cast(null as STRING) as `fsql_v_1`, cast(null as INT64) as `fsql_n_1_0`, cast(null as FLOAT64) as `fsql_s_1_0`, cast(null as FLOAT64) as `fsql_mean_1_0`, cast(null as FLOAT64) as `fsql_m2_1_0`, cast(null as FLOAT64) as `fsql_max_1_0`, cast(null as INT64) as `fsql_n_2_1`, cast(null as INT64) as `fsql_n_3_0`, cast(null as FLOAT64) as `fsql_s_3_0`, null as `fsql_d_2_1`
from (
  select r.`user_id`, r.`ts`, r.`amount`, row_number() over (partition by r.`user_id` order by r.`ts`, r.`amount`) as fsql_rank
  from `acme.features.user_spend` as r
  where r.`ts` >= timestamp '2024-03-26 00:30:00.000000+00' and r.`ts` < timestamp '2024-04-01 00:30:00.000000+00' and r.`amount` is not null
) as r
where r.fsql_rank <= 1
union all
select r.`user_id` as `user_id`, 3 as `fsql_kind`, cast(1 as INT64) as `fsql_w`, cast(0 as INT64) as `fsql_c`, r.`ts` as `fsql_ts`, r.`amount` as `fsql_v_0`, cast(null as STRING) as `fsql_v_1`, cast(null as INT64) as `fsql_n_1_0`, cast(null as FLOAT64) as `fsql_s_1_0`, cast(null as FLOAT64) as `fsql_mean_1_0`, cast(null as FLOAT64) as `fsql_m2_1_0`, cast(null as FLOAT64) as `fsql_max_1_0`, cast(null as INT64) as `fsql_n_2_1`, cast(null as INT64) as `fsql_n_3_0`, cast(null as FLOAT64) as `fsql_s_3_0`, null as `fsql_d_2_1`
from (
  select r.`user_id`, r.`ts`, r.`amount`, row_number() over (partition by r.`user_id` order by r.`ts` desc, r.`amount` desc) as fsql_rank
  from `acme.features.user_spend` as r
  where r.`ts` >= timestamp '2024-03-26 00:30:00.000000+00' and r.`ts` < timestamp '2024-04-01 00:30:00.000000+00' and r.`amount` is not null
) as r
where r.fsql_rank <= 5
) as fsql_sync
order by `user_id`;
