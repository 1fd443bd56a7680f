/**
 * One interface for every engine (DuckDB, BigQuery, Snowflake). Operations (run, train, sync,
 * freshness, skew-check) talk only to this, so they work unchanged on any target.
 */
import type { Dialect } from '../dialects/dialect.js';
import type { RelationName } from '../plans/relation.js';
import type { Target } from '../project/types.js';
import type { ColumnBatch } from '../column-batch.js';
import type { Column, Row } from '../values.js';

export interface ExecuteOptions {
  /** run the statements in one transaction (all or nothing) */
  atomic?: boolean;
  /** a short name for labels and logs, such as the view being built */
  label?: string;
}

/** What a check of a SELECT without running it found. */
export interface Validation {
  /** bytes the query would scan (BigQuery's dry run) */
  bytesProcessed?: bigint;
  /** how the SQL was checked, for the report: `dry run`, `EXPLAIN` */
  method: string;
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
  /** The same, column by column (what `fsql sync` reads); DuckDB's batches are views over its memory. */
  streamColumns(sql: string, opts?: ExecuteOptions & { chunkRows?: number }): AsyncIterable<ColumnBatch>;
  /** Columns of a table or view with their common types; undefined when it does not exist. */
  describe(relation: RelationName): Promise<Column[] | undefined>;
  /** Loads a local .csv or .parquet file into a new table (replacing any of that name). */
  loadFile(path: string, relation: RelationName): Promise<void>;
  /**
   * Checks a SELECT against the warehouse without running it (names, types, permissions) and
   * throws a WarehouseError naming `opts.label` when it is wrong. Optional: `compile --validate`
   * says so for adapters without one.
   */
  validate?(sql: string, opts?: ExecuteOptions): Promise<Validation>;
  close(): Promise<void>;
}
