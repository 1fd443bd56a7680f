import type { WarehouseType } from '../project/types.js';
import { BigQueryDialect } from './bigquery.js';
import type { Dialect } from './dialect.js';
import { DuckDbDialect } from './duckdb.js';
import { SnowflakeDialect } from './snowflake.js';

const DIALECTS: Record<WarehouseType, Dialect> = {
  duckdb: new DuckDbDialect(),
  bigquery: new BigQueryDialect(),
  snowflake: new SnowflakeDialect(),
};

export function dialectFor(type: WarehouseType): Dialect {
  return DIALECTS[type];
}
