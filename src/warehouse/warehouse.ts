/**
 * One interface for every engine (DuckDB, BigQuery, Snowflake). Operations (run, train, sync,
 * freshness, skew-check) talk only to this, so they work unchanged on any target.
 */
import type { Dialect, RelationName } from '../dialects/dialect.js';
import type { Target } from '../project/types.js';
import type { Column, Row } from '../values.js';

export interface ExecuteOptions {
  /** run the statements in one transaction (all or nothing) */
  atomic?: boolean;
  /** a short name for labels and logs, such as the view being built */
  label?: string;
}

export interface Warehouse {
  readonly dialect: Dialect;
  readonly target: Target;
  /** Runs statements in order; with `atomic`, in one transaction. */
  execute(statements: string | string[], opts?: ExecuteOptions): Promise<void>;
  /** A small result, read whole. */
  query(sql: string, opts?: ExecuteOptions): Promise<Row[]>;
  /** A large result, chunk by chunk: never the whole result in memory. */
  stream(sql: string, opts?: ExecuteOptions & { chunkRows?: number }): AsyncIterable<Row[]>;
  /** Columns of a table or view with their common types; undefined when it does not exist. */
  describe(relation: RelationName): Promise<Column[] | undefined>;
  /** Loads a local .csv or .parquet file into a new table (replacing any of that name). */
  loadFile(path: string, relation: RelationName): Promise<void>;
  close(): Promise<void>;
}
