/**
 * One class per warehouse turns plans into SQL text. The base class holds what is shared and
 * throws for what a dialect must define, so a forgotten case fails a test instead of shipping bad SQL.
 * Pure functions of their input: no I/O here (see dialects/CONTEXT.md).
 */
import { largestUnit } from '../duration.js';
import type { WarehouseType } from '../project/types.js';
import type { ScalarType, Timestamp } from '../values.js';

export interface RelationName {
  database?: string;
  schema?: string;
  name: string;
}

export type TruncUnit = 'second' | 'minute' | 'hour' | 'day' | 'week' | 'month' | 'quarter' | 'year';
export const TRUNC_UNITS: TruncUnit[] = ['second', 'minute', 'hour', 'day', 'week', 'month', 'quarter', 'year'];

/** A time range of output rows: start inclusive, end exclusive; open where undefined. */
export interface TimeRange {
  start?: Timestamp;
  end?: Timestamp;
}

export abstract class Dialect {
  abstract readonly name: WarehouseType;
  /** ASOF joins exist (DuckDB `ASOF LEFT JOIN`, Snowflake `ASOF JOIN ... MATCH_CONDITION`). */
  abstract readonly hasAsofJoin: boolean;
  /** RANGE frames over time need a numeric order key (BigQuery). */
  abstract readonly rangeNeedsNumericKey: boolean;
  /** Reads csv/parquet files directly as a source `path:` (DuckDB). */
  readonly readsFiles: boolean = false;
  /** Writes query results to local csv/parquet files (DuckDB `COPY ... TO`). */
  readonly writesFiles: boolean = false;
  /** A pseudo-column numbering a table's rows in insertion order (DuckDB `rowid`), if any. */
  readonly insertionOrderColumn: string | undefined = undefined;
  /** One DML statement is atomic by itself (BigQuery's MERGE): an atomic list of one needs no transaction. */
  readonly singleStatementAtomic: boolean = false;

  abstract quoteIdent(name: string): string;
  abstract relation(r: RelationName): string;
  abstract timestampLiteral(ts: Timestamp): string;
  /** `expr` moved by a signed number of seconds. */
  abstract timeAdd(expr: string, seconds: number): string;
  abstract castTo(expr: string, type: ScalarType): string;
  abstract dateTrunc(unit: TruncUnit, expr: string): string;
  /** Seconds from `start` to `end` as a float, for the same instants in every dialect. */
  abstract secondsBetween(start: string, end: string): string;
  /** Statements that replace the output rows of `range` in `table` by those of `select`, atomically. */
  abstract incrementalWrite(table: string, select: string, timestamp: string, range: TimeRange): string[];

  stringLiteral(s: string): string {
    return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  }

  timeSub(expr: string, seconds: number): string {
    return this.timeAdd(expr, -seconds);
  }

  /** The inside of an OVER clause: partition, order and a RANGE frame of `seconds` ending at the current row. */
  rollingWindow(partition: string, timeColumn: string, seconds: number): string {
    return `partition by ${partition} order by ${timeColumn} range between ${this.intervalLiteral(seconds)} preceding and current row`;
  }

  intervalLiteral(seconds: number): string {
    throw new Error(`${this.name}: intervalLiteral(${seconds}) is not defined for this dialect`);
  }

  safeDivide(numerator: string, denominator: string): string {
    return `case when (${denominator}) = 0 then null else (${numerator}) / (${denominator}) end`;
  }

  /**
   * A SELECT of a local file's rows plus `rowColumn` numbering them in file order, read in place
   * (no copy); undefined where the dialect cannot number a file's rows without reading it whole.
   */
  selectFileInOrder(_path: string, _rowColumn: string): string | undefined {
    return undefined;
  }

  readFile(path: string): string {
    throw new Error(`${this.name} cannot read files directly (source path '${path}'); load the file into a table and use identifier:`);
  }

  createTableAs(table: string, select: string): string {
    return `create or replace table ${table} as\n${select}`;
  }

  /** A distinct, increasing number for each row of a SELECT, in the order the rows come. */
  rowSequence(): string {
    return 'row_number() over ()';
  }

  dropTable(table: string): string {
    return `drop table if exists ${table}`;
  }

  dropView(view: string): string {
    return `drop view if exists ${view}`;
  }

  /** Every column of `alias` except `columns`. */
  selectAllExcept(alias: string, columns: string[]): string {
    throw new Error(`${this.name}: selectAllExcept(${alias}, ${columns.join(', ')}) is not defined for this dialect`);
  }

  /** A struct value with named fields (field names are plain identifiers). */
  structOf(fields: [name: string, expr: string][]): string {
    throw new Error(`${this.name}: structOf(${fields.map(([n]) => n).join(', ')}) is not defined for this dialect`);
  }

  structField(expr: string, name: string): string {
    throw new Error(`${this.name}: structField(${expr}, ${name}) is not defined for this dialect`);
  }

  /** A statement writing the result of `select` to a local file (the caller's temporary path). */
  copyToFile(select: string, path: string, format: 'csv' | 'parquet'): string {
    throw new Error(`${this.name} cannot write local files (${format} ${path}); stream the rows instead`);
  }

  /**
   * Statements run atomically, as one script: what `run --dry-run` prints, and what adapters that
   * send scripts (BigQuery) send. Each statement ends with `;`.
   */
  transactionScript(statements: string[]): string {
    if (this.singleStatementAtomic && statements.length === 1) return `${statements[0]};`;
    return `begin transaction;\n${statements.map((s) => `${s};`).join('\n')}\ncommit;`;
  }

  createViewAs(view: string, select: string): string {
    return `create or replace view ${view} as\n${select}`;
  }

  /** WHERE condition keeping rows of `range`. */
  rangeCondition(column: string, range: TimeRange): string {
    const parts: string[] = [];
    if (range.start) parts.push(`${column} >= ${this.timestampLiteral(range.start)}`);
    if (range.end) parts.push(`${column} < ${this.timestampLiteral(range.end)}`);
    return parts.length > 0 ? parts.join(' and ') : 'true';
  }

  /** Split seconds into a whole count of the largest unit that fits. */
  protected unit(seconds: number) {
    return largestUnit(Math.abs(seconds));
  }
}
