import type { WarehouseType } from '../project/types.js';
import { BigQueryDialect } from './bigquery.js';
import type { Dialect } from './dialect.js';
import { DuckDbDialect } from './duckdb.js';
import { PostgresDialect } from './postgres.js';
import { SnowflakeDialect } from './snowflake.js';

const DIALECTS: Record<WarehouseType, Dialect> = {
  duckdb: new DuckDbDialect(),
  bigquery: new BigQueryDialect(),
  snowflake: new SnowflakeDialect(),
  postgres: new PostgresDialect(),
};

/** The one dialect object of each warehouse (adapters use these too). */
export function dialectFor(type: WarehouseType): Dialect {
  return DIALECTS[type];
}
