create table if not exists "ACME"."FEATURES"."FSQL_LOGGED_SEGMENTS" as
select cast('' as VARCHAR) as "SERVICE", cast('' as VARCHAR) as "SEGMENT", cast(0 as NUMBER(38,0)) as "END_OFFSET", cast(0 as NUMBER(38,0)) as "ENTRIES", cast('2024-02-01 00:00:00.000000'::timestamp_ntz as TIMESTAMP_NTZ) as "LOADED_AT" where 1 = 0;

select "SEGMENT", max("END_OFFSET") as "END_OFFSET" from "ACME"."FEATURES"."FSQL_LOGGED_SEGMENTS" where "SERVICE" = 'it''s' group by "SEGMENT";

create table if not exists "ACME"."FEATURES"."FSQL_LOGGED_SCORING" as
select * from "ACME"."FEATURES"."FSQL_LOGGED_SCORING__STAGING" where 1 = 0;

insert into "ACME"."FEATURES"."FSQL_LOGGED_SCORING" ("REQUEST_ID", "REQUEST_ROW", "REQUEST_TIME", "USER_ID", "ACCOUNT", "AMOUNT", "STATS__COUNT_7D", "STATS__FLAGGED", "STATS__LAST_SEEN", "STATS__RATIO", "STATS__SERVING_STATUS", "STATS__EFFECTIVE_TIME")
select "REQUEST_ID", "REQUEST_ROW", "REQUEST_TIME", "USER_ID", "ACCOUNT", "AMOUNT", "STATS__COUNT_7D", "STATS__FLAGGED", "STATS__LAST_SEEN", "STATS__RATIO", "STATS__SERVING_STATUS", "STATS__EFFECTIVE_TIME" from "ACME"."FEATURES"."FSQL_LOGGED_SCORING__STAGING";

insert into "ACME"."FEATURES"."FSQL_LOGGED_SEGMENTS"
select cast('scoring' as VARCHAR) as "SERVICE", cast('host-1-abc-0' as VARCHAR) as "SEGMENT", cast(4096 as NUMBER(38,0)) as "END_OFFSET", cast(20 as NUMBER(38,0)) as "ENTRIES", cast('2024-02-01 00:00:00.000000'::timestamp_ntz as TIMESTAMP_NTZ) as "LOADED_AT"
union all
select cast('scoring' as VARCHAR) as "SERVICE", cast('host-2-def-0' as VARCHAR) as "SEGMENT", cast(512 as NUMBER(38,0)) as "END_OFFSET", cast(2 as NUMBER(38,0)) as "ENTRIES", cast('2024-02-01 00:00:00.000000'::timestamp_ntz as TIMESTAMP_NTZ) as "LOADED_AT";
