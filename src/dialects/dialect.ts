/**
 * One class per warehouse turns plans into SQL text. Every warehouse difference is a member here:
 * abstract where each warehouse must decide (no default a new dialect could inherit silently),
 * shared only where the SQL is standard and the same everywhere. Pure functions of their input:
 * no I/O (dialects/CONTEXT.md lists what a new warehouse provides).
 */
import { exactUnit } from '../duration.js';
import type { TableStorage } from '../plans/materialize.js';
import type { RelationName, TimeRange } from '../plans/relation.js';
import type { SourceTable, Target, WarehouseType } from '../project/types.js';
import type { ScalarType, Timestamp } from '../values.js';
import type { ExtractField } from '../expressions/tree.js';

export type TruncUnit = 'second' | 'minute' | 'hour' | 'day' | 'week' | 'month' | 'quarter' | 'year';
export const TRUNC_UNITS: TruncUnit[] = ['second', 'minute', 'hour', 'day', 'week', 'month', 'quarter', 'year'];

/**
 * Point-in-time join strategies (dialects/point-in-time.ts): `asof` (an ASOF join), `window`
 * (UNION ALL + LAST_VALUE IGNORE NULLS over a struct), `lateral` (LEFT JOIN LATERAL ... LIMIT 1).
 */
export type PitStrategy = 'asof' | 'window' | 'lateral';

/** An ASOF join of the events `e` to one view's feature rows, as rendered pieces. */
export interface AsofJoin {
  alias: string;
  /** the feature rows' subquery `(select ... from <table> as f where ...) as <alias>`, with extra columns and a tail */
  scan(extraColumns: string[], tail?: string): string;
  /** `e.<event key> = <alias>.<key>` for each join key */
  equalities: string[];
  /** the event's time, `e.__fsql_ts` */
  eventTs: string;
  /** the feature rows' time and created_timestamp columns, quoted (the scan's `f` and `alias` both have them) */
  timestamp: string;
  created?: string;
  /** the feature rows' key columns, quoted */
  keys: string[];
  /** the complete-tie order of the feature rows (Dialect.tieBreak over `f.` columns) */
  tie: string;
}

/** The query LatestPerEntity needs, as rendered pieces. */
export interface LatestQuery {
  columns: string;
  from: string;
  where: string[];
  partition: string[];
  /** the order that puts the row to keep first in its partition */
  order: string[];
}

export abstract class Dialect {
  abstract readonly name: WarehouseType;
  /** Point-in-time strategies this warehouse runs; the first is the default. */
  abstract readonly pitStrategies: readonly PitStrategy[];
  /** A view's table is `database.schema.name` (else `schema.name`: one database per connection). */
  abstract readonly namesDatabase: boolean;
  /** `SELECT alias.* EXCEPT/EXCLUDE (...)` exists; else the columns are listed. */
  abstract readonly hasSelectExcept: boolean;
  /** Reads csv/parquet files directly as a source `path:` (DuckDB). */
  abstract readonly readsFiles: boolean;
  /** Writes query results to local csv/parquet files (DuckDB `COPY ... TO`). */
  abstract readonly writesFiles: boolean;
  /** A pseudo-column numbering a table's rows in insertion order (DuckDB `rowid`), if any. */
  abstract readonly insertionOrderColumn: string | undefined;
  /** One DML statement is atomic by itself (BigQuery's MERGE): an atomic list of one needs no transaction. */
  abstract readonly singleStatementAtomic: boolean;
  /** How compile checks this dialect's SQL: `duckdb` parses natively; others through node-sql-parser's grammar of that name. */
  abstract readonly sqlGrammar: 'duckdb' | 'bigquery' | 'snowflake' | 'postgresql';

  abstract quoteIdent(name: string): string;
  abstract stringLiteral(s: string): string;
  abstract timestampLiteral(ts: Timestamp): string;
  /** An interval of a whole number of `unit`s (compose with `exactUnit`), for RANGE frames. */
  abstract intervalLiteral(count: number, unit: IntervalUnit): string;
  /** `expr` moved by a signed whole number of units. */
  protected abstract addUnits(expr: string, count: number, unit: IntervalUnit): string;
  abstract castTo(expr: string, type: ScalarType): string;
  abstract dateTrunc(unit: TruncUnit, expr: string): string;
  /** Seconds from `start` to `end` as a float, for the same instants in every dialect. */
  abstract secondsBetween(start: string, end: string): string;
  /** NULL when the denominator is 0 or NULL, as README promises for every warehouse. */
  abstract safeDivide(numerator: string, denominator: string): string;
  /** Statements that replace the output rows of `range` in `table` by those of `select`, atomically. */
  abstract incrementalWrite(table: string, select: string, timestamp: string, range: TimeRange): string[];
  /**
   * Statements that create or replace `table` with the rows of `select` (run together,
   * atomically); a view's table also gets its `storage` (indexes, partitions, clustering, rows in
   * `sortedBy` order) where the warehouse has such a thing.
   */
  abstract createTableAs(table: string, select: string, storage?: TableStorage): string[];
  /** A distinct, increasing number for each row of a SELECT, in the order the rows come. */
  abstract rowSequence(): string;
  /** The latest row per partition. */
  abstract latestPerEntity(q: LatestQuery): string;
  /**
   * Orders rows that tie completely on (keys, timestamp, created_timestamp), a data error that
   * retrieval must still settle the same way every time (SPEC section 4): the greatest value of
   * this expression over the view's feature columns wins, in train, sync and skew-check alike.
   * A hash of the values: deterministic, a fixed width whatever the types, and cheap in a sort.
   */
  abstract tieBreak(columns: string[]): string;
  /** Whole microseconds since the Unix epoch of a timestamp, as a 64-bit integer. */
  abstract epochMicros(expr: string): string;
  /** floor(`expr` / `divisor`) of a 64-bit integer by a positive whole constant, as a 64-bit integer (exact; negative values round down). */
  abstract floorDivide(expr: string, divisor: number): string;
  /** The values of `expr` in a group as an array, ordered by `order` (`x desc` allowed); NULL for no rows. */
  abstract orderedArray(expr: string, order: string[]): string;
  /** The distinct non-NULL values of `expr` in a group as an array, in ascending order. */
  abstract sortedDistinctArray(expr: string): string;
  /**
   * An array of strings as JSON text (the aggregate sync's distinct values: online/aggregate/
   * distinct-text.ts takes compact ASCII text as it is and parses any other).
   */
  abstract jsonText(array: string): string;
  /** `expr`, an array, or an empty array of its type where it is NULL. */
  abstract orEmptyArray(expr: string): string;

  /* Feature statistics (dialects/feature-stats.ts). */
  /**
   * Aggregates over a float64 expression (NULLs ignored) from which `quantileAt` reads the
   * quantiles `ps`: one list-valued aggregate, or one per quantile; approximate where the
   * warehouse's own estimate is cheaper (the error each has is in dialects/CONTEXT.md).
   */
  abstract quantileAggregates(expr: string, ps: readonly number[]): string[];
  /** The `i`-th quantile of `ps`, read from the output `columns` of quantileAggregates (NULL when there were no values). */
  abstract quantileAt(columns: string[], ps: readonly number[], i: number): string;
  /** An approximate count of the distinct non-NULL values of `expr`, as a 64-bit integer. */
  abstract approxDistinct(expr: string): string;

  /* On-demand expressions (dialects/expression-sql.ts; semantics in expressions/evaluate.ts). */
  /** `a op b` of two int64 values: NULL where the exact result leaves int64, never an error. */
  abstract checkedInt64(op: '+' | '-' | '*', a: string, b: string): string;
  /** Text of the form [+-]digits as int64; NULL for any other text or a value outside int64, never an error. */
  abstract int64FromText(s: string): string;
  /** hour, day, month, or dayofweek from 1 (Sunday) to 7, of a UTC timestamp. */
  abstract extractPart(field: ExtractField, ts: string): string;
  /** A string operand of < <= > >= least greatest, ordered by code point (UTF-8 byte order) whatever the collation. */
  abstract binaryOrder(s: string): string;

  /** A view's (or fsql's own) table `name` in the target. */
  tableIn(target: Pick<Target, 'database' | 'schema'>, name: string, schema = target.schema): RelationName {
    return { database: this.namesDatabase ? target.database : undefined, schema, name };
  }

  /** A source's table: a missing database or schema is the target's, as in dbt. */
  sourceTable(target: Pick<Target, 'database' | 'schema'>, s: Pick<SourceTable, 'database' | 'schema' | 'identifier'>): RelationName {
    return { database: this.namesDatabase ? (s.database ?? target.database) : s.database, schema: s.schema ?? target.schema, name: s.identifier };
  }

  /**
   * A subquery whose columns the planner computes once rather than substituting them into the
   * outer query (PostgreSQL pulls simple subqueries up, and a column read five times is then
   * computed five times: on-demand expressions' layers, dialects/expression-sql.ts).
   */
  computedOnce(select: string): string {
    return select;
  }

  /** substr over code points, positions of int64 type (at most 1e9: callers cap them). */
  substring(s: string, start: string, length?: string): string {
    return `substr(${s}, ${start}${length ? `, ${length}` : ''})`;
  }

  relation(r: RelationName): string {
    return [r.database, r.schema, r.name].filter((p): p is string => Boolean(p)).map((p) => this.quoteIdent(p)).join('.');
  }

  /** `expr` moved by a signed number of seconds, exactly (microseconds where needed). */
  timeAdd(expr: string, seconds: number): string {
    const { count, unit } = exactUnit(Math.abs(seconds));
    return this.addUnits(expr, seconds < 0 ? -count : count, unit);
  }

  timeSub(expr: string, seconds: number): string {
    return this.timeAdd(expr, -seconds);
  }

  /**
   * The inside of an OVER clause: partition, order and a RANGE frame of `seconds` before the
   * current row's time, ending at it (`current`: [t - w, t], the row itself and its ties included)
   * or one microsecond before it (`before`: [t - w, t), SPEC section 9's rule: a row never sees itself).
   */
  rollingWindow(partition: string, timeColumn: string, seconds: number, end: WindowEnd = 'current'): string {
    const { count, unit } = exactUnit(seconds);
    const last = end === 'before' ? `${this.intervalLiteral(1, 'microsecond')} preceding` : 'current row';
    return `partition by ${partition} order by ${timeColumn} range between ${this.intervalLiteral(count, unit)} preceding and ${last}`;
  }

  /** An ASOF join to a view's feature rows (dialects whose pitStrategies include `asof`). */
  asofJoin(j: AsofJoin): string {
    throw new Error(`${this.name} has no ASOF join (${j.alias}); its strategies are ${this.pitStrategies.join(', ')}`);
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

  createSchema(schema: string): string {
    return `create schema if not exists ${this.quoteIdent(schema)}`;
  }

  dropTable(table: string): string {
    return `drop table if exists ${table}`;
  }

  dropView(view: string): string {
    return `drop view if exists ${view}`;
  }

  /**
   * Statements dropping the views named `prefix…` that depend on `table`, where such a view keeps
   * the table from being dropped and created again (PostgreSQL); none where it does not.
   */
  dropViewsOn(_table: string, _prefix: string): string[] {
    return [];
  }

  /** Every column of `alias` except `columns` (dialects with hasSelectExcept). */
  selectAllExcept(alias: string, columns: string[]): string {
    throw new Error(`${this.name}: selectAllExcept(${alias}, ${columns.join(', ')}) does not exist here; list the columns`);
  }

  /** A struct value with named fields (dialects whose pitStrategies include `window`). */
  structOf(fields: [name: string, expr: string][]): string {
    throw new Error(`${this.name}: structOf(${fields.map(([n]) => n).join(', ')}) is not defined for this dialect`);
  }

  structField(expr: string, name: string): string {
    throw new Error(`${this.name}: structField(${expr}, ${name}) is not defined for this dialect`);
  }

  /** A statement writing the result of `select` to a local file (dialects with writesFiles). */
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

  /** delete+insert of the range's rows (dbt's delete+insert strategy); `byName` where INSERT matches columns by name. */
  protected deleteInsert(table: string, select: string, timestamp: string, range: TimeRange, byName: boolean): string[] {
    const cond = this.rangeCondition(this.quoteIdent(timestamp), range);
    return [`delete from ${table} where ${cond}`, `insert into ${table}${byName ? ' by name' : ''}\nselect * from (\n${select}\n) as fsql_new where ${cond}`];
  }

  /** LatestPerEntity with QUALIFY (DuckDB, BigQuery, Snowflake). */
  protected qualifyLatest(q: LatestQuery): string {
    return [
      `select ${q.columns}`,
      `from ${q.from}`,
      `where ${q.where.join('\n  and ')}`,
      `qualify row_number() over (partition by ${q.partition.join(', ')} order by ${q.order.join(', ')}) = 1`,
    ].join('\n');
  }
}

export type IntervalUnit = ReturnType<typeof exactUnit>['unit'];
export type WindowEnd = 'current' | 'before';
export const WINDOW_ENDS: WindowEnd[] = ['current', 'before'];
