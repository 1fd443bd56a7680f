-- full build: the per-tile relations found dropped, the events written
drop table if exists "ACME"."FEATURES"."USER_SPEND__TILES";
drop table if exists "ACME"."FEATURES"."USER_SPEND__DISTINCT__MERCHANT_ID";
drop table if exists "ACME"."FEATURES"."USER_SPEND__ENDS__AMOUNT";
create or replace table "ACME"."FEATURES"."USER_SPEND" as
select s.*, cast(floor((date_part(epoch_microsecond, s."TS")) / 3600000000) as NUMBER(38,0)) as "__FSQL_TILE"
from (
select user_id, ts, amount, merchant_id from "ACME"."RAW"."TRANSACTIONS"
) as s
where s."TS" is not null and s."USER_ID" is not null;
-- how many rows fill how many (keys, tile): the full build's choice of per-tile tables or per-row views
select count(*) as "ROWS", approx_count_distinct(hash(r."USER_ID", r."__FSQL_TILE")) as "TILES"
from "ACME"."FEATURES"."USER_SPEND" as r;
-- per-tile tables
create or replace table "ACME"."FEATURES"."USER_SPEND__TILES" as
select r."USER_ID", r."__FSQL_TILE", count(*) as "FSQL_ROWS", count(r."AMOUNT") as "FSQL_N_0", sum(r."AMOUNT") as "FSQL_S_0", avg(cast(r."AMOUNT" as FLOAT)) as "FSQL_MEAN_0", var_pop(cast(r."AMOUNT" as FLOAT)) * count(r."AMOUNT") as "FSQL_M2_0", max(r."AMOUNT") as "FSQL_MAX_0", min(case when r."AMOUNT" is not null then r."TS" end) as "FSQL_FTS_0", min(case when r."TS" = r."FSQL_GFIRST_0" then r."AMOUNT" end) as "FSQL_FV_0"
from (
  select r.*, min(case when r."AMOUNT" is not null then r."TS" end) over (partition by r."USER_ID", r."__FSQL_TILE") as "FSQL_GFIRST_0"
  from "ACME"."FEATURES"."USER_SPEND" as r
  where true
) as r
group by r."USER_ID", r."__FSQL_TILE";
create or replace table "ACME"."FEATURES"."USER_SPEND__DISTINCT__MERCHANT_ID" as
select distinct r."USER_ID", r."__FSQL_TILE", r."MERCHANT_ID" as v
from "ACME"."FEATURES"."USER_SPEND" as r
where true and r."MERCHANT_ID" is not null;
create or replace table "ACME"."FEATURES"."USER_SPEND__ENDS__AMOUNT" as
select r."USER_ID", r."__FSQL_TILE", r."TS" as ts, r."AMOUNT" as v
from (
  select r."USER_ID", r."__FSQL_TILE", r."TS", r."AMOUNT", row_number() over (partition by r."USER_ID", r."__FSQL_TILE" order by r."TS" desc, r."AMOUNT" desc) as fsql_last
  from "ACME"."FEATURES"."USER_SPEND" as r
  where true and r."AMOUNT" is not null
) as r
where r.fsql_last <= 5;
-- or per-row views
create or replace view "ACME"."FEATURES"."USER_SPEND__TILES" as
select r."USER_ID", r."__FSQL_TILE", 1 as "FSQL_ROWS", case when r."AMOUNT" is not null then 1 else 0 end as "FSQL_N_0", r."AMOUNT" as "FSQL_S_0", cast(r."AMOUNT" as FLOAT) as "FSQL_MEAN_0", case when r."AMOUNT" is not null then cast(0 as FLOAT) end as "FSQL_M2_0", r."AMOUNT" as "FSQL_MAX_0", case when r."AMOUNT" is not null then r."TS" end as "FSQL_FTS_0", r."AMOUNT" as "FSQL_FV_0", r."TS" as "FSQL_ROW_TS"
from "ACME"."FEATURES"."USER_SPEND" as r;
create or replace view "ACME"."FEATURES"."USER_SPEND__DISTINCT__MERCHANT_ID" as
select r."USER_ID", r."__FSQL_TILE", r."MERCHANT_ID" as v, r."TS" as "FSQL_ROW_TS"
from "ACME"."FEATURES"."USER_SPEND" as r
where r."MERCHANT_ID" is not null;
create or replace view "ACME"."FEATURES"."USER_SPEND__ENDS__AMOUNT" as
select r."USER_ID", r."__FSQL_TILE", r."TS" as ts, r."AMOUNT" as v, r."TS" as "FSQL_ROW_TS"
from "ACME"."FEATURES"."USER_SPEND" as r
where r."AMOUNT" is not null;
-- incremental run from 2024-04-01 00:30:00
begin transaction;
delete from "ACME"."FEATURES"."USER_SPEND" where "TS" >= '2024-04-01 00:30:00.000000'::timestamp_ntz;
insert into "ACME"."FEATURES"."USER_SPEND"
select * from (
select s.*, cast(floor((date_part(epoch_microsecond, s."TS")) / 3600000000) as NUMBER(38,0)) as "__FSQL_TILE"
from (
select user_id, ts, amount, merchant_id from "ACME"."RAW"."TRANSACTIONS"
) as s
where s."TS" is not null and s."USER_ID" is not null
) as fsql_new where "TS" >= '2024-04-01 00:30:00.000000'::timestamp_ntz;
delete from "ACME"."FEATURES"."USER_SPEND__TILES" where "__FSQL_TILE" >= 475536;
insert into "ACME"."FEATURES"."USER_SPEND__TILES"
select r."USER_ID", r."__FSQL_TILE", count(*) as "FSQL_ROWS", count(r."AMOUNT") as "FSQL_N_0", sum(r."AMOUNT") as "FSQL_S_0", avg(cast(r."AMOUNT" as FLOAT)) as "FSQL_MEAN_0", var_pop(cast(r."AMOUNT" as FLOAT)) * count(r."AMOUNT") as "FSQL_M2_0", max(r."AMOUNT") as "FSQL_MAX_0", min(case when r."AMOUNT" is not null then r."TS" end) as "FSQL_FTS_0", min(case when r."TS" = r."FSQL_GFIRST_0" then r."AMOUNT" end) as "FSQL_FV_0"
from (
  select r.*, min(case when r."AMOUNT" is not null then r."TS" end) over (partition by r."USER_ID", r."__FSQL_TILE") as "FSQL_GFIRST_0"
  from "ACME"."FEATURES"."USER_SPEND" as r
  where r."__FSQL_TILE" >= 475536 and r."TS" >= '2024-04-01 00:00:00.000000'::timestamp_ntz
) as r
group by r."USER_ID", r."__FSQL_TILE";
delete from "ACME"."FEATURES"."USER_SPEND__DISTINCT__MERCHANT_ID" where "__FSQL_TILE" >= 475536;
insert into "ACME"."FEATURES"."USER_SPEND__DISTINCT__MERCHANT_ID"
select distinct r."USER_ID", r."__FSQL_TILE", r."MERCHANT_ID" as v
from "ACME"."FEATURES"."USER_SPEND" as r
where r."__FSQL_TILE" >= 475536 and r."TS" >= '2024-04-01 00:00:00.000000'::timestamp_ntz and r."MERCHANT_ID" is not null;
delete from "ACME"."FEATURES"."USER_SPEND__ENDS__AMOUNT" where "__FSQL_TILE" >= 475536;
insert into "ACME"."FEATURES"."USER_SPEND__ENDS__AMOUNT"
select r."USER_ID", r."__FSQL_TILE", r."TS" as ts, r."AMOUNT" as v
from (
  select r."USER_ID", r."__FSQL_TILE", r."TS", r."AMOUNT", row_number() over (partition by r."USER_ID", r."__FSQL_TILE" order by r."TS" desc, r."AMOUNT" desc) as fsql_last
  from "ACME"."FEATURES"."USER_SPEND" as r
  where r."__FSQL_TILE" >= 475536 and r."TS" >= '2024-04-01 00:00:00.000000'::timestamp_ntz and r."AMOUNT" is not null
) as r
where r.fsql_last <= 5;
commit;
-- training query
with fsql_events as (
  select *, cast("EVENT_TIMESTAMP" as TIMESTAMP_NTZ) as "__FSQL_TS"
  from "ACME"."FEATURES"."FSQL_EVENTS"
),
fsql_a0 as (
  select e."__FSQL_ROW", e."USER_ID" as "USER_ID", e."__FSQL_TS", date_part(epoch_microsecond, e."__FSQL_TS") as "FSQL_US", cast(floor((date_part(epoch_microsecond, e."__FSQL_TS")) / 3600000000) as NUMBER(38,0)) as "FSQL_TILE", cast(floor((date_part(epoch_microsecond, e."__FSQL_TS") - 3600000000) / 3600000000) as NUMBER(38,0)) as "FSQL_EDGE_0", cast(floor((date_part(epoch_microsecond, e."__FSQL_TS") - 3600000000) / 3600000000) as NUMBER(38,0)) + case when (cast(floor((date_part(epoch_microsecond, e."__FSQL_TS") - 3600000000) / 3600000000) as NUMBER(38,0))) * 3600000000 = date_part(epoch_microsecond, e."__FSQL_TS") - 3600000000 then 0 else 1 end as "FSQL_LO_0", cast(floor((date_part(epoch_microsecond, e."__FSQL_TS") - 604800000000) / 3600000000) as NUMBER(38,0)) as "FSQL_EDGE_1", cast(floor((date_part(epoch_microsecond, e."__FSQL_TS") - 604800000000) / 3600000000) as NUMBER(38,0)) + case when (cast(floor((date_part(epoch_microsecond, e."__FSQL_TS") - 604800000000) / 3600000000) as NUMBER(38,0))) * 3600000000 = date_part(epoch_microsecond, e."__FSQL_TS") - 604800000000 then 0 else 1 end as "FSQL_LO_1", cast(floor((date_part(epoch_microsecond, e."__FSQL_TS") - 2592000000000) / 3600000000) as NUMBER(38,0)) as "FSQL_EDGE_2", cast(floor((date_part(epoch_microsecond, e."__FSQL_TS") - 2592000000000) / 3600000000) as NUMBER(38,0)) + case when (cast(floor((date_part(epoch_microsecond, e."__FSQL_TS") - 2592000000000) / 3600000000) as NUMBER(38,0))) * 3600000000 = date_part(epoch_microsecond, e."__FSQL_TS") - 2592000000000 then 0 else 1 end as "FSQL_LO_2"
  from fsql_events as e
  where e."USER_ID" is not null and e."__FSQL_TS" is not null
),
fsql_a0_w1_e_amount as (
  select * from (
    select e."__FSQL_ROW", s.ts, s.v
    from fsql_a0 as e join "ACME"."FEATURES"."USER_SPEND__ENDS__AMOUNT" as s on s."USER_ID" = e."USER_ID" and s."__FSQL_TILE" >= e."FSQL_LO_1" and s."__FSQL_TILE" < e."FSQL_TILE"
    union all
    select e."__FSQL_ROW", r."TS" as ts, r."AMOUNT" as v
    from fsql_a0 as e join "ACME"."FEATURES"."USER_SPEND" as r on r."USER_ID" = e."USER_ID" and r."__FSQL_TILE" = e."FSQL_TILE" and r."TS" < e."__FSQL_TS" and r."TS" >= dateadd(day, -7, e."__FSQL_TS") and r."AMOUNT" is not null
    union all
    select e."__FSQL_ROW", r."TS" as ts, r."AMOUNT" as v
    from fsql_a0 as e join "ACME"."FEATURES"."USER_SPEND" as r on r."USER_ID" = e."USER_ID" and r."__FSQL_TILE" = e."FSQL_EDGE_1" and e."FSQL_EDGE_1" < e."FSQL_LO_1" and e."FSQL_EDGE_1" < e."FSQL_TILE" and r."TS" >= dateadd(day, -7, e."__FSQL_TS") and r."AMOUNT" is not null
  ) as p
),
fsql_a0_w1_e_amount_0 as (
  select p."__FSQL_ROW", array_agg(p.v) within group (order by p.ts, p.v) as "LAST_5_AMOUNTS"
  from (
    select c.*, row_number() over (partition by c."__FSQL_ROW" order by c.ts desc, c.v desc) as fsql_rank
    from fsql_a0_w1_e_amount as c
  ) as p
  where p.fsql_rank <= 5
  group by p."__FSQL_ROW"
),
fsql_a0_w3 as (
  select p."__FSQL_ROW", case when (sum(p."FSQL_N_0")) = 0 then null else cast(sum(p."FSQL_S_0") as FLOAT) / (sum(p."FSQL_N_0")) end as "AMOUNT_AVG_LIFETIME"
  from (
    select e."__FSQL_ROW", s."FSQL_ROWS", s."FSQL_N_0", s."FSQL_S_0"
    from fsql_a0 as e join "ACME"."FEATURES"."USER_SPEND__TILES" as s on s."USER_ID" = e."USER_ID" and s."__FSQL_TILE" < e."FSQL_TILE"
    union all
    select e."__FSQL_ROW", 1 as "FSQL_ROWS", case when r."AMOUNT" is not null then 1 else 0 end as "FSQL_N_0", r."AMOUNT" as "FSQL_S_0"
    from fsql_a0 as e join "ACME"."FEATURES"."USER_SPEND" as r on r."USER_ID" = e."USER_ID" and r."__FSQL_TILE" = e."FSQL_TILE" and r."TS" < e."__FSQL_TS"
  ) as p
  group by p."__FSQL_ROW"
),
fsql_a0_s as (
  select p."__FSQL_ROW", sum(case when p."FSQL_IN_0" then p."FSQL_ROWS" end) as "COUNT_1H", sum(case when p."FSQL_IN_0" then p."FSQL_S_0" end) as "AMOUNT_SUM_1H", sum(case when p."FSQL_IN_1" then p."FSQL_S_0" end) as "AMOUNT_SUM_7D", case when sum(case when p."FSQL_IN_0" then p."FSQL_N_0" end) > 1 then sqrt((sum(case when p."FSQL_IN_0" then p."FSQL_M2_0" end) + sum(cast(case when p."FSQL_IN_0" then p."FSQL_N_0" end as FLOAT) * (case when p."FSQL_IN_0" then p."FSQL_MEAN_0" end - p."FSQL_GMEAN_0_W0") * (case when p."FSQL_IN_0" then p."FSQL_MEAN_0" end - p."FSQL_GMEAN_0_W0"))) / (cast(sum(case when p."FSQL_IN_0" then p."FSQL_N_0" end) as FLOAT) - 1)) end as "AMOUNT_STDDEV_SAMP_1H", case when sum(case when p."FSQL_IN_1" then p."FSQL_N_0" end) > 1 then sqrt((sum(case when p."FSQL_IN_1" then p."FSQL_M2_0" end) + sum(cast(case when p."FSQL_IN_1" then p."FSQL_N_0" end as FLOAT) * (case when p."FSQL_IN_1" then p."FSQL_MEAN_0" end - p."FSQL_GMEAN_0_W1") * (case when p."FSQL_IN_1" then p."FSQL_MEAN_0" end - p."FSQL_GMEAN_0_W1"))) / (cast(sum(case when p."FSQL_IN_1" then p."FSQL_N_0" end) as FLOAT) - 1)) end as "AMOUNT_STDDEV_SAMP_7D", max(case when p."FSQL_IN_0" then p."FSQL_MAX_0" end) as "AMOUNT_MAX_1H", max(case when p."FSQL_IN_1" then p."FSQL_MAX_0" end) as "AMOUNT_MAX_7D", min(case when case when p."FSQL_IN_0" then p."FSQL_FTS_0" end = p."FSQL_GFIRST_0_W0" then case when p."FSQL_IN_0" then p."FSQL_FV_0" end end) as "AMOUNT_FIRST_1H", min(case when case when p."FSQL_IN_1" then p."FSQL_FTS_0" end = p."FSQL_GFIRST_0_W1" then case when p."FSQL_IN_1" then p."FSQL_FV_0" end end) as "AMOUNT_FIRST_7D"
  from (
  select p.*, case when (sum(case when p."FSQL_IN_0" then p."FSQL_N_0" end) over (partition by p."__FSQL_ROW")) = 0 then null else cast(sum(case when p."FSQL_IN_0" then p."FSQL_N_0" end * case when p."FSQL_IN_0" then p."FSQL_MEAN_0" end) over (partition by p."__FSQL_ROW") as FLOAT) / (sum(case when p."FSQL_IN_0" then p."FSQL_N_0" end) over (partition by p."__FSQL_ROW")) end as "FSQL_GMEAN_0_W0", min(case when p."FSQL_IN_0" then p."FSQL_FTS_0" end) over (partition by p."__FSQL_ROW") as "FSQL_GFIRST_0_W0", case when (sum(case when p."FSQL_IN_1" then p."FSQL_N_0" end) over (partition by p."__FSQL_ROW")) = 0 then null else cast(sum(case when p."FSQL_IN_1" then p."FSQL_N_0" end * case when p."FSQL_IN_1" then p."FSQL_MEAN_0" end) over (partition by p."__FSQL_ROW") as FLOAT) / (sum(case when p."FSQL_IN_1" then p."FSQL_N_0" end) over (partition by p."__FSQL_ROW")) end as "FSQL_GMEAN_0_W1", min(case when p."FSQL_IN_1" then p."FSQL_FTS_0" end) over (partition by p."__FSQL_ROW") as "FSQL_GFIRST_0_W1"
  from (
    select e."__FSQL_ROW", s."FSQL_ROWS", s."FSQL_N_0", s."FSQL_S_0", s."FSQL_MEAN_0", s."FSQL_M2_0", s."FSQL_MAX_0", s."FSQL_FTS_0", s."FSQL_FV_0", s."__FSQL_TILE" >= e."FSQL_LO_0" as "FSQL_IN_0", s."__FSQL_TILE" >= e."FSQL_LO_1" as "FSQL_IN_1"
    from fsql_a0 as e join "ACME"."FEATURES"."USER_SPEND__TILES" as s on s."USER_ID" = e."USER_ID" and s."__FSQL_TILE" >= e."FSQL_LO_1" and s."__FSQL_TILE" < e."FSQL_TILE"
    union all
    select e."__FSQL_ROW", 1 as "FSQL_ROWS", case when r."AMOUNT" is not null then 1 else 0 end as "FSQL_N_0", r."AMOUNT" as "FSQL_S_0", cast(r."AMOUNT" as FLOAT) as "FSQL_MEAN_0", case when r."AMOUNT" is not null then cast(0 as FLOAT) end as "FSQL_M2_0", r."AMOUNT" as "FSQL_MAX_0", case when r."AMOUNT" is not null then r."TS" end as "FSQL_FTS_0", r."AMOUNT" as "FSQL_FV_0", r."TS" >= dateadd(hour, -1, e."__FSQL_TS") as "FSQL_IN_0", r."TS" >= dateadd(day, -7, e."__FSQL_TS") as "FSQL_IN_1"
    from fsql_a0 as e join "ACME"."FEATURES"."USER_SPEND" as r on r."USER_ID" = e."USER_ID" and r."__FSQL_TILE" = e."FSQL_TILE" and r."TS" < e."__FSQL_TS" and r."TS" >= dateadd(day, -7, e."__FSQL_TS")
    union all
    select e."__FSQL_ROW", 1 as "FSQL_ROWS", case when r."AMOUNT" is not null then 1 else 0 end as "FSQL_N_0", r."AMOUNT" as "FSQL_S_0", cast(r."AMOUNT" as FLOAT) as "FSQL_MEAN_0", case when r."AMOUNT" is not null then cast(0 as FLOAT) end as "FSQL_M2_0", r."AMOUNT" as "FSQL_MAX_0", case when r."AMOUNT" is not null then r."TS" end as "FSQL_FTS_0", r."AMOUNT" as "FSQL_FV_0", e.fsql_w = 0 as "FSQL_IN_0", e.fsql_w = 1 as "FSQL_IN_1"
    from (
      select e.*, ws.fsql_w, case ws.fsql_w when 0 then e."FSQL_EDGE_0" when 1 then e."FSQL_EDGE_1" end as fsql_edge, case ws.fsql_w when 0 then dateadd(hour, -1, e."__FSQL_TS") when 1 then dateadd(day, -7, e."__FSQL_TS") end as fsql_from
      from fsql_a0 as e cross join (select 0 as fsql_w union all select 1 as fsql_w) as ws
    ) as e join "ACME"."FEATURES"."USER_SPEND" as r on r."USER_ID" = e."USER_ID" and r."__FSQL_TILE" = e.fsql_edge and r."TS" >= e.fsql_from and (case e.fsql_w when 0 then e."FSQL_EDGE_0" < e."FSQL_LO_0" and e."FSQL_EDGE_0" < e."FSQL_TILE" when 1 then e."FSQL_EDGE_1" < e."FSQL_LO_1" and e."FSQL_EDGE_1" < e."FSQL_TILE" end)
  ) as p
) as p
  group by p."__FSQL_ROW"
),
fsql_a0_d_merchant_id as (
  select p."__FSQL_ROW", count(distinct case when p."FSQL_IN_2" then p.v end) as "MERCHANT_ID_COUNT_DISTINCT_30D"
  from (
    select e."__FSQL_ROW", s.v, s."__FSQL_TILE" >= e."FSQL_LO_2" as "FSQL_IN_2"
    from fsql_a0 as e join "ACME"."FEATURES"."USER_SPEND__DISTINCT__MERCHANT_ID" as s on s."USER_ID" = e."USER_ID" and s."__FSQL_TILE" >= e."FSQL_LO_2" and s."__FSQL_TILE" < e."FSQL_TILE"
    union all
    select e."__FSQL_ROW", r."MERCHANT_ID" as v, r."TS" >= dateadd(day, -30, e."__FSQL_TS") as "FSQL_IN_2"
    from fsql_a0 as e join "ACME"."FEATURES"."USER_SPEND" as r on r."USER_ID" = e."USER_ID" and r."__FSQL_TILE" = e."FSQL_TILE" and r."TS" < e."__FSQL_TS" and r."TS" >= dateadd(day, -30, e."__FSQL_TS") and r."MERCHANT_ID" is not null
    union all
    select e."__FSQL_ROW", r."MERCHANT_ID" as v, e.fsql_w = 2 as "FSQL_IN_2"
    from (
      select e.*, ws.fsql_w, case ws.fsql_w when 2 then e."FSQL_EDGE_2" end as fsql_edge, case ws.fsql_w when 2 then dateadd(day, -30, e."__FSQL_TS") end as fsql_from
      from fsql_a0 as e cross join (select 2 as fsql_w) as ws
    ) as e join "ACME"."FEATURES"."USER_SPEND" as r on r."USER_ID" = e."USER_ID" and r."__FSQL_TILE" = e.fsql_edge and r."TS" >= e.fsql_from and (case e.fsql_w when 2 then e."FSQL_EDGE_2" < e."FSQL_LO_2" and e."FSQL_EDGE_2" < e."FSQL_TILE" end) and r."MERCHANT_ID" is not null
  ) as p
  group by p."__FSQL_ROW"
)
select
  e.* exclude ("__FSQL_ROW", "__FSQL_TS"),
  cast(case when e."USER_ID" is not null and e."__FSQL_TS" is not null then coalesce(fsql_a0_s."COUNT_1H", 0) end as NUMBER(38,0)) as "USER_SPEND__COUNT_1H",
  cast(case when e."USER_ID" is not null and e."__FSQL_TS" is not null then coalesce(fsql_a0_s."AMOUNT_SUM_1H", 0) end as FLOAT) as "USER_SPEND__AMOUNT_SUM_1H",
  cast(case when e."USER_ID" is not null and e."__FSQL_TS" is not null then coalesce(fsql_a0_s."AMOUNT_SUM_7D", 0) end as FLOAT) as "USER_SPEND__AMOUNT_SUM_7D",
  cast(fsql_a0_s."AMOUNT_STDDEV_SAMP_1H" as FLOAT) as "USER_SPEND__AMOUNT_STDDEV_SAMP_1H",
  cast(fsql_a0_s."AMOUNT_STDDEV_SAMP_7D" as FLOAT) as "USER_SPEND__AMOUNT_STDDEV_SAMP_7D",
  cast(fsql_a0_s."AMOUNT_MAX_1H" as FLOAT) as "USER_SPEND__AMOUNT_MAX_1H",
  cast(fsql_a0_s."AMOUNT_MAX_7D" as FLOAT) as "USER_SPEND__AMOUNT_MAX_7D",
  cast(fsql_a0_s."AMOUNT_FIRST_1H" as FLOAT) as "USER_SPEND__AMOUNT_FIRST_1H",
  cast(fsql_a0_s."AMOUNT_FIRST_7D" as FLOAT) as "USER_SPEND__AMOUNT_FIRST_7D",
  cast(case when e."USER_ID" is not null and e."__FSQL_TS" is not null then coalesce(fsql_a0_d_merchant_id."MERCHANT_ID_COUNT_DISTINCT_30D", 0) end as NUMBER(38,0)) as "USER_SPEND__MERCHANT_ID_COUNT_DISTINCT_30D",
  case when e."USER_ID" is not null and e."__FSQL_TS" is not null then coalesce(fsql_a0_w1_e_amount_0."LAST_5_AMOUNTS", array_construct()) end as "USER_SPEND__LAST_5_AMOUNTS",
  cast(fsql_a0_w3."AMOUNT_AVG_LIFETIME" as FLOAT) as "USER_SPEND__AMOUNT_AVG_LIFETIME"
from fsql_events as e
left join fsql_a0_w1_e_amount_0 on fsql_a0_w1_e_amount_0."__FSQL_ROW" = e."__FSQL_ROW"
left join fsql_a0_w3 on fsql_a0_w3."__FSQL_ROW" = e."__FSQL_ROW"
left join fsql_a0_s on fsql_a0_s."__FSQL_ROW" = e."__FSQL_ROW"
left join fsql_a0_d_merchant_id on fsql_a0_d_merchant_id."__FSQL_ROW" = e."__FSQL_ROW"
order by e."__FSQL_ROW";
-- sync query at 2024-04-01 00:30:00
select * from (
select r."USER_ID" as "USER_ID", 0 as "FSQL_KIND", cast(null as NUMBER(38,0)) as "FSQL_W", cast(null as NUMBER(38,0)) as "FSQL_C", cast(null as TIMESTAMP_NTZ) as "FSQL_TS", cast(null as FLOAT) as "FSQL_V_0", cast(null as VARCHAR) as "FSQL_V_1", cast(r."FSQL_N_1_0" as NUMBER(38,0)) as "FSQL_N_1_0", cast(r."FSQL_S_1_0" as FLOAT) as "FSQL_S_1_0", cast(r."FSQL_MEAN_1_0" as FLOAT) as "FSQL_MEAN_1_0", cast(r."FSQL_M2_1_0" as FLOAT) as "FSQL_M2_1_0", cast(r."FSQL_MAX_1_0" as FLOAT) as "FSQL_MAX_1_0", cast(r."FSQL_N_2_1" as NUMBER(38,0)) as "FSQL_N_2_1", cast(r."FSQL_N_3_0" as NUMBER(38,0)) as "FSQL_N_3_0", cast(r."FSQL_S_3_0" as FLOAT) as "FSQL_S_3_0", "FSQL_D_2_1".fsql_list as "FSQL_D_2_1"
from (
  select r."USER_ID" as "USER_ID", count(case when r."TS" >= '2024-03-26 00:30:00.000000'::timestamp_ntz and r."TS" < '2024-04-01 00:30:00.000000'::timestamp_ntz then r."AMOUNT" end) as "FSQL_N_1_0", sum(case when r."TS" >= '2024-03-26 00:30:00.000000'::timestamp_ntz and r."TS" < '2024-04-01 00:30:00.000000'::timestamp_ntz then r."AMOUNT" end) as "FSQL_S_1_0", avg(cast(case when r."TS" >= '2024-03-26 00:30:00.000000'::timestamp_ntz and r."TS" < '2024-04-01 00:30:00.000000'::timestamp_ntz then r."AMOUNT" end as FLOAT)) as "FSQL_MEAN_1_0", var_pop(cast(case when r."TS" >= '2024-03-26 00:30:00.000000'::timestamp_ntz and r."TS" < '2024-04-01 00:30:00.000000'::timestamp_ntz then r."AMOUNT" end as FLOAT)) * count(case when r."TS" >= '2024-03-26 00:30:00.000000'::timestamp_ntz and r."TS" < '2024-04-01 00:30:00.000000'::timestamp_ntz then r."AMOUNT" end) as "FSQL_M2_1_0", max(case when r."TS" >= '2024-03-26 00:30:00.000000'::timestamp_ntz and r."TS" < '2024-04-01 00:30:00.000000'::timestamp_ntz then r."AMOUNT" end) as "FSQL_MAX_1_0", count(case when r."TS" >= '2024-03-03 00:30:00.000000'::timestamp_ntz and r."TS" < '2024-04-01 00:30:00.000000'::timestamp_ntz then r."MERCHANT_ID" end) as "FSQL_N_2_1", count(case when r."TS" < '2024-04-01 00:30:00.000000'::timestamp_ntz then r."AMOUNT" end) as "FSQL_N_3_0", sum(case when r."TS" < '2024-04-01 00:30:00.000000'::timestamp_ntz then r."AMOUNT" end) as "FSQL_S_3_0"
  from "ACME"."FEATURES"."USER_SPEND" as r
  where r."TS" < '2024-04-01 00:30:00.000000'::timestamp_ntz
  group by r."USER_ID"
) as r
left join (
    select r."USER_ID", to_json(array_agg(distinct r."MERCHANT_ID") within group (order by r."MERCHANT_ID")) as fsql_list
    from "ACME"."FEATURES"."USER_SPEND" as r
    where r."TS" >= '2024-03-03 00:30:00.000000'::timestamp_ntz and r."TS" < '2024-04-01 00:30:00.000000'::timestamp_ntz and r."MERCHANT_ID" is not null
    group by r."USER_ID"
  ) as "FSQL_D_2_1" on "FSQL_D_2_1"."USER_ID" = r."USER_ID"
union all
select r."USER_ID" as "USER_ID", 1 as "FSQL_KIND", cast(null as NUMBER(38,0)) as "FSQL_W", cast(null as NUMBER(38,0)) as "FSQL_C", r."TS" as "FSQL_TS", r."AMOUNT" as "FSQL_V_0", r."MERCHANT_ID" as "FSQL_V_1", cast(null as NUMBER(38,0)) as "FSQL_N_1_0", cast(null as FLOAT) as "FSQL_S_1_0", cast(null as FLOAT) as "FSQL_MEAN_1_0", cast(null as FLOAT) as "FSQL_M2_1_0", cast(null as FLOAT) as "FSQL_MAX_1_0", cast(null as NUMBER(38,0)) as "FSQL_N_2_1", cast(null as NUMBER(38,0)) as "FSQL_N_3_0", cast(null as FLOAT) as "FSQL_S_3_0", null as "FSQL_D_2_1"
from "ACME"."FEATURES"."USER_SPEND" as r
where (r."TS" >= '2024-03-31 23:30:00.000000'::timestamp_ntz and r."TS" < '2024-04-01 00:30:00.000000'::timestamp_ntz) or (r."TS" >= '2024-03-25 00:30:00.000000'::timestamp_ntz and r."TS" < '2024-03-26 00:30:00.000000'::timestamp_ntz) or (r."TS" >= '2024-03-02 00:30:00.000000'::timestamp_ntz and r."TS" < '2024-03-03 00:30:00.000000'::timestamp_ntz) or (r."TS" >= '2024-04-01 00:30:00.000000'::timestamp_ntz and r."TS" < '2024-04-02 00:30:00.000000'::timestamp_ntz)
union all
select r."USER_ID" as "USER_ID", 2 as "FSQL_KIND", cast(1 as NUMBER(38,0)) as "FSQL_W", cast(0 as NUMBER(38,0)) as "FSQL_C", r."TS" as "FSQL_TS", r."AMOUNT" as "FSQL_V_0", cast(null as VARCHAR) as "FSQL_V_1", cast(null as NUMBER(38,0)) as "FSQL_N_1_0", cast(null as FLOAT) as "FSQL_S_1_0", cast(null as FLOAT) as "FSQL_MEAN_1_0", cast(null as FLOAT) as "FSQL_M2_1_0", cast(null as FLOAT) as "FSQL_MAX_1_0", cast(null as NUMBER(38,0)) as "FSQL_N_2_1", cast(null as NUMBER(38,0)) as "FSQL_N_3_0", cast(null as FLOAT) as "FSQL_S_3_0", null as "FSQL_D_2_1"
from (
  select r."USER_ID", r."TS", r."AMOUNT", row_number() over (partition by r."USER_ID" order by r."TS", r."AMOUNT") as fsql_rank
  from "ACME"."FEATURES"."USER_SPEND" as r
  where r."TS" >= '2024-03-26 00:30:00.000000'::timestamp_ntz and r."TS" < '2024-04-01 00:30:00.000000'::timestamp_ntz and r."AMOUNT" is not null
) as r
where r.fsql_rank <= 1
union all
select r."USER_ID" as "USER_ID", 3 as "FSQL_KIND", cast(1 as NUMBER(38,0)) as "FSQL_W", cast(0 as NUMBER(38,0)) as "FSQL_C", r."TS" as "FSQL_TS", r."AMOUNT" as "FSQL_V_0", cast(null as VARCHAR) as "FSQL_V_1", cast(null as NUMBER(38,0)) as "FSQL_N_1_0", cast(null as FLOAT) as "FSQL_S_1_0", cast(null as FLOAT) as "FSQL_MEAN_1_0", cast(null as FLOAT) as "FSQL_M2_1_0", cast(null as FLOAT) as "FSQL_MAX_1_0", cast(null as NUMBER(38,0)) as "FSQL_N_2_1", cast(null as NUMBER(38,0)) as "FSQL_N_3_0", cast(null as FLOAT) as "FSQL_S_3_0", null as "FSQL_D_2_1"
from (
  select r."USER_ID", r."TS", r."AMOUNT", row_number() over (partition by r."USER_ID" order by r."TS" desc, r."AMOUNT" desc) as fsql_rank
  from "ACME"."FEATURES"."USER_SPEND" as r
  where r."TS" >= '2024-03-26 00:30:00.000000'::timestamp_ntz and r."TS" < '2024-04-01 00:30:00.000000'::timestamp_ntz and r."AMOUNT" is not null
) as r
where r.fsql_rank <= 5
) as fsql_sync
order by "USER_ID";
