create table if not exists "features"."fsql_logged_segments" as
select cast('' as varchar) as "service", cast('' as varchar) as "segment", cast(0 as bigint) as "end_offset", cast(0 as bigint) as "entries", cast(timestamp '2024-02-01 00:00:00.000000' as timestamp) as "loaded_at" where 1 = 0;

select "segment", max("end_offset") as "end_offset" from "features"."fsql_logged_segments" where "service" = 'it''s' group by "segment";

create table if not exists "features"."fsql_logged_scoring" as
select * from (
select id as "request_id", coalesce("row", 0) + i as "request_row", make_timestamp(t) as "request_time", k[i * 2 + 1] as "user_id", cast(k[i * 2 + 2] as BIGINT) as "account", cast(c[i * 1 + 1] as DOUBLE) as "amount", cast(v[i * 4 + 1] as BIGINT) as "stats__count_7d", cast(v[i * 4 + 2] as BOOLEAN) as "stats__flagged", cast(v[i * 4 + 3] as TIMESTAMP) as "stats__last_seen", cast(v[i * 4 + 4] as DOUBLE) as "stats__ratio", case when e[i * 1 + 1] is null then 'MISSING_DATA' else 'PRESENT' end as "stats__serving_status", make_timestamp(e[i * 1 + 1]) as "stats__effective_time" from (select *, unnest(range(coalesce(n, 1))) as i from read_ndjson('/tmp/fsql-logs/entries.ndjson', columns = {'n': 'BIGINT', 'id': 'VARCHAR', 't': 'BIGINT', 'row': 'BIGINT', 'k': 'VARCHAR[]', 'c': 'VARCHAR[]', 'v': 'VARCHAR[]', 'e': 'BIGINT[]'})) as "lines"
) as "entries" where 1 = 0;

insert into "features"."fsql_logged_scoring" ("request_id", "request_row", "request_time", "user_id", "account", "amount", "stats__count_7d", "stats__flagged", "stats__last_seen", "stats__ratio", "stats__serving_status", "stats__effective_time")
select "request_id", "request_row", "request_time", "user_id", "account", "amount", "stats__count_7d", "stats__flagged", "stats__last_seen", "stats__ratio", "stats__serving_status", "stats__effective_time" from (
select id as "request_id", coalesce("row", 0) + i as "request_row", make_timestamp(t) as "request_time", k[i * 2 + 1] as "user_id", cast(k[i * 2 + 2] as BIGINT) as "account", cast(c[i * 1 + 1] as DOUBLE) as "amount", cast(v[i * 4 + 1] as BIGINT) as "stats__count_7d", cast(v[i * 4 + 2] as BOOLEAN) as "stats__flagged", cast(v[i * 4 + 3] as TIMESTAMP) as "stats__last_seen", cast(v[i * 4 + 4] as DOUBLE) as "stats__ratio", case when e[i * 1 + 1] is null then 'MISSING_DATA' else 'PRESENT' end as "stats__serving_status", make_timestamp(e[i * 1 + 1]) as "stats__effective_time" from (select *, unnest(range(coalesce(n, 1))) as i from read_ndjson('/tmp/fsql-logs/entries.ndjson', columns = {'n': 'BIGINT', 'id': 'VARCHAR', 't': 'BIGINT', 'row': 'BIGINT', 'k': 'VARCHAR[]', 'c': 'VARCHAR[]', 'v': 'VARCHAR[]', 'e': 'BIGINT[]'})) as "lines"
) as "entries";

insert into "features"."fsql_logged_segments"
select cast('scoring' as varchar) as "service", cast('host-1-abc-0' as varchar) as "segment", cast(4096 as bigint) as "end_offset", cast(20 as bigint) as "entries", cast(timestamp '2024-02-01 00:00:00.000000' as timestamp) as "loaded_at"
union all
select cast('scoring' as varchar) as "service", cast('host-2-def-0' as varchar) as "segment", cast(512 as bigint) as "end_offset", cast(2 as bigint) as "entries", cast(timestamp '2024-02-01 00:00:00.000000' as timestamp) as "loaded_at";

select "request_id", "request_row", "user_id", "account", "amount", "request_time" as "event_timestamp", "stats__count_7d", "stats__ratio" from "features"."fsql_logged_scoring" where "request_time" >= timestamp '2024-02-01 00:00:00.000000';

insert into "features"."merchant_risk" ("merchant_id", "feature_ts", "risk_score")
select "merchant_id", "feature_ts", "risk_score" from (
  select "merchant_id", "feature_ts", "risk_score", row_number() over (partition by "merchant_id", "feature_ts" order by "push_id" desc, "push_row" desc) as "fsql_push_rank"
  from "features"."merchant_risk__pushed"
) as p
where "fsql_push_rank" = 1 and not exists (select 1 from "features"."merchant_risk" as v where v."merchant_id" = p."merchant_id" and v."feature_ts" = p."feature_ts");

select s."request_id", s."request_row", s."event_timestamp", s."stats__ratio" as "served__stats__ratio", t."stats__ratio" as "training__stats__ratio"
from (
select "request_id", "request_row", "request_time" as "event_timestamp", "stats__ratio" from "features"."fsql_logged_scoring" where true
) as s
join "features"."fsql_skew_1" as t on t."request_id" = s."request_id" and t."request_row" = s."request_row"
where s."stats__ratio" is distinct from t."stats__ratio"
order by s."event_timestamp", s."request_id", s."request_row"
limit 100;
