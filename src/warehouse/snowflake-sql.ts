/**
 * The SQL the Snowflake adapter itself sends (beyond what the plans render): session set-up,
 * the context check, describe, and loading a file. Pure functions of their input, so the text
 * is pinned by golden files and checked without a connection (test/golden/snowflake/).
 */
import type { RelationName } from '../plans/relation.js';
import type { Dialect } from '../dialects/dialect.js';
import type { Target } from '../project/types.js';
import { toSnowflakeName } from './snowflake-types.js';

/** Run on every new session: timestamps without a zone are UTC, as on every fsql target. */
/** UTC, so NTZ wall-clock values and instants agree; weeks start on Monday whatever the account's WEEK_START (date_trunc('week') as on the other warehouses). */
export const SESSION_SETUP = "alter session set timezone = 'UTC' week_start = 1";

/** Run once on the first session: what the login actually got (Snowflake logs in regardless). */
export const CONTEXT_QUERY = 'select current_database() as database, current_schema() as schema, current_warehouse() as warehouse, current_role() as role';

export function createSchemaSql(d: Dialect, database: string, schema: string): string[] {
  const name = d.relation({ database, name: schema });
  return [`create schema if not exists ${name}`, `use schema ${name}`];
}

/** compile --validate: Snowflake compiles the query and checks names and privileges, and runs nothing. */
export function explainSql(select: string): string {
  return `explain using tabular ${select}`;
}

/** Columns of a table or view, in order; no rows when it does not exist. */
export function describeSql(d: Dialect, target: Target, relation: RelationName): string {
  const database = relation.database ?? target.database;
  const schema = toSnowflakeName(relation.schema ?? target.schema);
  const columns = database ? `${d.quoteIdent(database)}.information_schema.columns` : 'information_schema.columns';
  return `select column_name, data_type, numeric_scale from ${columns} where table_schema = ${d.stringLiteral(schema)} and table_name = ${d.stringLiteral(toSnowflakeName(relation.name))} order by ordinal_position`;
}

/**
 * PUT the file to a temporary stage, create the table from the columns Snowflake infers from it
 * (INFER_SCHEMA, in file order, header names folded to upper case like unquoted identifiers) and
 * COPY the rows in: a CSV by position (the table's columns are the file's, in its order),
 * Parquet by column name. Stage and file format are temporary: they live in this session only.
 */
export function loadFileSql(d: Dialect, target: Target, absPath: string, relation: RelationName, id: string): { load: string[]; cleanup: string[] } {
  const database = relation.database ?? target.database;
  const schema = relation.schema ?? target.schema;
  const stage = d.relation({ database, schema, name: `FSQL_LOAD_${id}` });
  const format = d.relation({ database, schema, name: `FSQL_LOAD_${id}_FORMAT` });
  const table = d.relation({ database, schema, name: relation.name });
  const csv = absPath.toLowerCase().endsWith('.csv');
  const csvOptions = `field_optionally_enclosed_by = '"' empty_field_as_null = true`;
  return {
    load: [
      `create or replace temporary file format ${format} ${csv ? `type = csv parse_header = true ${csvOptions}` : 'type = parquet'}`,
      `create or replace temporary stage ${stage}`,
      `put 'file://${absPath}' @${stage} auto_compress = ${csv} overwrite = true`,
      `create or replace table ${table} using template (select array_agg(object_construct(*)) within group (order by order_id) from table(infer_schema(location => '@${stage}', file_format => ${d.stringLiteral(format)}, ignore_case => true)))`,
      csv
        ? `copy into ${table} from @${stage} file_format = (type = csv skip_header = 1 ${csvOptions})`
        : `copy into ${table} from @${stage} file_format = (format_name = ${d.stringLiteral(format)}) match_by_column_name = case_insensitive`,
    ],
    cleanup: [`drop stage if exists ${stage}`, `drop file format if exists ${format}`],
  };
}
