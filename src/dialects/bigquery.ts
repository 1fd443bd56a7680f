import { Dialect, type IntervalUnit, type LatestQuery, type TruncUnit, type WindowEnd } from './dialect.js';
import type { TableStorage } from '../plans/materialize.js';
import type { RelationName, TimeRange } from '../plans/relation.js';
import type { ExtractField } from '../expressions/tree.js';
import type { ScalarType, Timestamp } from '../values.js';

const TYPES: Record<ScalarType, string> = { int64: 'INT64', float64: 'FLOAT64', string: 'STRING', boolean: 'BOOL', timestamp: 'TIMESTAMP' };

export class BigQueryDialect extends Dialect {
  readonly name = 'bigquery' as const;
  readonly pitStrategies = ['window'] as const;
  readonly namesDatabase = true;
  readonly hasSelectExcept = true;
  readonly readsFiles = false;
  readonly writesFiles = false;
  readonly insertionOrderColumn = undefined;
  /** A MERGE is atomic; statement lists of several run as one `begin transaction; ...; commit;` script. */
  readonly singleStatementAtomic = true;
  readonly sqlGrammar = 'bigquery' as const;

  quoteIdent(name: string): string {
    return `\`${name.replace(/`/g, '\\`')}\``;
  }

  /** `project.dataset.table` inside one pair of backticks. */
  override relation(r: RelationName): string {
    return this.quoteIdent([r.database, r.schema, r.name].filter((p): p is string => Boolean(p)).join('.'));
  }

  /** BigQuery string literals take backslash escapes. */
  stringLiteral(s: string): string {
    return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r')}'`;
  }

  timestampLiteral(ts: Timestamp): string {
    return `timestamp '${ts.toSqlText()}+00'`;
  }

  intervalLiteral(count: number, unit: IntervalUnit): string {
    return `interval ${count} ${unit}`;
  }

  protected addUnits(expr: string, count: number, unit: IntervalUnit): string {
    return `${count < 0 ? 'timestamp_sub' : 'timestamp_add'}(${expr}, ${this.intervalLiteral(Math.abs(count), unit)})`;
  }

  /**
   * BigQuery's RANGE frame needs a numeric order key. Microseconds, not UNIX_SECONDS, so that
   * sub-second timestamps fall in or out of the window exactly as they do on the other warehouses.
   */
  override rollingWindow(partition: string, timeColumn: string, seconds: number, end: WindowEnd = 'current'): string {
    return `partition by ${partition} order by unix_micros(${timeColumn}) range between ${Math.round(seconds * 1e6)} preceding and ${end === 'before' ? '1 preceding' : 'current row'}`;
  }

  castTo(expr: string, type: ScalarType): string {
    return `cast(${expr} as ${TYPES[type]})`;
  }

  safeDivide(numerator: string, denominator: string): string {
    return `safe_divide(${numerator}, ${denominator})`;
  }

  /** Weeks start on Monday, as on the other warehouses (BigQuery's WEEK starts on Sunday; ISOWEEK on Monday). */
  dateTrunc(unit: TruncUnit, expr: string): string {
    return `timestamp_trunc(${expr}, ${unit === 'week' ? 'isoweek' : unit})`;
  }

  secondsBetween(start: string, end: string): string {
    return `(unix_micros(${end}) - unix_micros(${start})) / 1e6`;
  }

  rowSequence(): string {
    return 'row_number() over ()';
  }

  /**
   * A view's table is partitioned (by default daily on its timestamp) and clustered (by default
   * on its join keys, at most four), so incremental runs, sync and train, which all filter on
   * the timestamp with literal bounds, read only the partitions they need.
   */
  createTableAs(table: string, select: string, storage?: TableStorage): string[] {
    const partition = storage?.partition ? `\npartition by timestamp_trunc(${this.quoteIdent(storage.partition.field)}, ${storage.partition.granularity})` : '';
    const cluster = storage && storage.cluster.length > 0 ? `\ncluster by ${storage.cluster.slice(0, 4).map((c) => this.quoteIdent(c)).join(', ')}` : '';
    return [`create or replace table ${table}${partition}${cluster} as\n${select}`];
  }

  latestPerEntity(q: LatestQuery): string {
    return this.qualifyLatest(q);
  }

  /** FARM_FINGERPRINT (INT64) of the values as JSON text. */
  tieBreak(columns: string[]): string {
    return columns.length === 0 ? '0' : `farm_fingerprint(to_json_string(struct(${columns.map((c, i) => `${c} as _${i}`).join(', ')})))`;
  }

  epochMicros(expr: string): string {
    return `unix_micros(${expr})`;
  }

  /** DIV truncates toward zero; the remainder moves negative values down. */
  floorDivide(expr: string, divisor: number): string {
    return `div((${expr}) - mod(mod(${expr}, ${divisor}) + ${divisor}, ${divisor}), ${divisor})`;
  }

  orderedArray(expr: string, order: string[]): string {
    return `array_agg(${expr} order by ${order.join(', ')})`;
  }

  /** An array may not hold a NULL: IGNORE NULLS. */
  sortedDistinctArray(expr: string): string {
    return `array_agg(distinct ${expr} ignore nulls order by ${expr})`;
  }

  jsonText(array: string): string {
    return `to_json_string(${array})`;
  }

  /** Percentiles: the 101 boundaries of APPROX_QUANTILES(x, 100), picked by offset (an empty array, for no values, reads NULL). */
  quantileAggregates(expr: string, _ps: readonly number[]): string[] {
    return [`approx_quantiles(${expr}, 100)`];
  }

  quantileAt(columns: string[], ps: readonly number[], i: number): string {
    return `${columns[0]}[safe_offset(${Math.round(ps[i] * 100)})]`;
  }

  approxDistinct(expr: string): string {
    return `approx_count_distinct(${expr})`;
  }

  orEmptyArray(expr: string): string {
    return `coalesce(${expr}, [])`;
  }

  override selectAllExcept(alias: string, columns: string[]): string {
    return columns.length === 0 ? `${alias}.*` : `${alias}.* except (${columns.map((c) => this.quoteIdent(c)).join(', ')})`;
  }

  override structOf(fields: [name: string, expr: string][]): string {
    return `struct(${fields.map(([n, e]) => `${e} as ${this.quoteIdent(n)}`).join(', ')})`;
  }

  override structField(expr: string, name: string): string {
    return `${expr}.${this.quoteIdent(name)}`;
  }

  /** One atomic MERGE: rows of the range not in the new result are deleted, new rows inserted. */
  incrementalWrite(table: string, select: string, timestamp: string, range: TimeRange): string[] {
    const col = this.quoteIdent(timestamp);
    return [
      `merge into ${table} as fsql_t\nusing (\nselect * from (\n${select}\n) where ${this.rangeCondition(col, range)}\n) as fsql_s\non false\n` +
        `when not matched by source and ${this.rangeCondition(`fsql_t.${col}`, range)} then delete\n` +
        `when not matched then insert row`,
    ];
  }

  checkedInt64(op: '+' | '-' | '*', a: string, b: string): string {
    return `${op === '+' ? 'safe_add' : op === '-' ? 'safe_subtract' : 'safe_multiply'}(${a}, ${b})`;
  }

  int64FromText(s: string): string {
    return `case when regexp_contains(${s}, r'^[+-]?[0-9]+$') then safe_cast(${s} as INT64) end`;
  }

  /** DAYOFWEEK is already 1 (Sunday) to 7. */
  extractPart(field: ExtractField, ts: string): string {
    return `extract(${field} from ${ts})`;
  }

  /** STRING compares by code point. */
  binaryOrder(s: string): string {
    return s;
  }
}
