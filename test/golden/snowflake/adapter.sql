-- every new session
alter session set timezone = 'UTC' week_start = 1;

-- first session: what the login got
select current_database() as database, current_schema() as schema, current_warehouse() as warehouse, current_role() as role;

-- first session, when the schema is missing
create schema if not exists "ANALYTICS"."FEATURES";
use schema "ANALYTICS"."FEATURES";

-- describe (run: does the table exist, which columns did it get)
select column_name, data_type, numeric_scale from "ANALYTICS".information_schema.columns where table_schema = 'FEATURES' and table_name = 'USER_TRANSACTION_STATS' order by ordinal_position;

-- compile --validate, per view
explain using tabular select user_id, ts as event_ts from "RAW"."TRANSACTIONS";

-- atomic statements are wrapped in
begin transaction;
commit;

-- and, when one of them fails
rollback;

-- loadFile (train --events file.csv), in one session
create or replace temporary file format "ANALYTICS"."FEATURES"."FSQL_LOAD_0123456789AB_FORMAT" type = csv parse_header = true field_optionally_enclosed_by = '"' empty_field_as_null = true;
create or replace temporary stage "ANALYTICS"."FEATURES"."FSQL_LOAD_0123456789AB";
put 'file:///data/events.csv' @"ANALYTICS"."FEATURES"."FSQL_LOAD_0123456789AB" auto_compress = true overwrite = true;
create or replace table "ANALYTICS"."FEATURES"."FSQL_EVENTS" using template (select array_agg(object_construct(*)) within group (order by order_id) from table(infer_schema(location => '@"ANALYTICS"."FEATURES"."FSQL_LOAD_0123456789AB"', file_format => '"ANALYTICS"."FEATURES"."FSQL_LOAD_0123456789AB_FORMAT"', ignore_case => true)));
copy into "ANALYTICS"."FEATURES"."FSQL_EVENTS" from @"ANALYTICS"."FEATURES"."FSQL_LOAD_0123456789AB" file_format = (type = csv skip_header = 1 field_optionally_enclosed_by = '"' empty_field_as_null = true);
drop stage if exists "ANALYTICS"."FEATURES"."FSQL_LOAD_0123456789AB";
drop file format if exists "ANALYTICS"."FEATURES"."FSQL_LOAD_0123456789AB_FORMAT";

-- loadFile (train --events file.parquet)
create or replace temporary file format "ANALYTICS"."FEATURES"."FSQL_LOAD_0123456789AB_FORMAT" type = parquet;
create or replace temporary stage "ANALYTICS"."FEATURES"."FSQL_LOAD_0123456789AB";
put 'file:///data/events.parquet' @"ANALYTICS"."FEATURES"."FSQL_LOAD_0123456789AB" auto_compress = false overwrite = true;
create or replace table "ANALYTICS"."FEATURES"."FSQL_EVENTS" using template (select array_agg(object_construct(*)) within group (order by order_id) from table(infer_schema(location => '@"ANALYTICS"."FEATURES"."FSQL_LOAD_0123456789AB"', file_format => '"ANALYTICS"."FEATURES"."FSQL_LOAD_0123456789AB_FORMAT"', ignore_case => true)));
copy into "ANALYTICS"."FEATURES"."FSQL_EVENTS" from @"ANALYTICS"."FEATURES"."FSQL_LOAD_0123456789AB" file_format = (format_name = '"ANALYTICS"."FEATURES"."FSQL_LOAD_0123456789AB_FORMAT"') match_by_column_name = case_insensitive;
drop stage if exists "ANALYTICS"."FEATURES"."FSQL_LOAD_0123456789AB";
drop file format if exists "ANALYTICS"."FEATURES"."FSQL_LOAD_0123456789AB_FORMAT";
