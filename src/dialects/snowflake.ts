import { Dialect, type AsofJoin, type IntervalUnit, type LatestQuery, type TruncUnit } from './dialect.js';
import type { TableStorage } from '../plans/materialize.js';
import type { TimeRange } from '../plans/relation.js';
import type { ExtractField } from '../expressions/tree.js';
import type { ScalarType, Timestamp } from '../values.js';

const TYPES: Record<ScalarType, string> = { int64: 'NUMBER(38,0)', float64: 'FLOAT', string: 'VARCHAR', boolean: 'BOOLEAN', timestamp: 'TIMESTAMP_NTZ' };

/**
 * Snowflake folds unquoted identifiers to upper case; fsql quotes every identifier it writes, so
 * plain lower-case names are quoted upper-cased (`user_id` -> "USER_ID") to meet the columns that
 * unquoted template SQL creates. Names with other characters keep their case.
 */
export class SnowflakeDialect extends Dialect {
  readonly name = 'snowflake' as const;
  readonly pitStrategies = ['asof'] as const;
  readonly namesDatabase = true;
  readonly hasSelectExcept = true;
  readonly readsFiles = false;
  readonly writesFiles = false;
  readonly insertionOrderColumn = undefined;
  readonly singleStatementAtomic = false;
  readonly sqlGrammar = 'snowflake' as const;

  quoteIdent(name: string): string {
    const folded = /^[A-Za-z_][A-Za-z0-9_$]*$/.test(name) ? name.toUpperCase() : name;
    return `"${folded.replace(/"/g, '""')}"`;
  }

  /** Snowflake string literals take backslash escapes as well as doubled quotes. */
  stringLiteral(s: string): string {
    return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
  }

  timestampLiteral(ts: Timestamp): string {
    return `'${ts.toSqlText()}'::timestamp_ntz`;
  }

  intervalLiteral(count: number, unit: IntervalUnit): string {
    return `interval '${count} ${unit}s'`;
  }

  protected addUnits(expr: string, count: number, unit: IntervalUnit): string {
    return `dateadd(${unit}, ${count}, ${expr})`;
  }

  castTo(expr: string, type: ScalarType): string {
    return `cast(${expr} as ${TYPES[type]})`;
  }

  /**
   * Not DIV0NULL: that returns 0 for a zero or NULL divisor, where the other warehouses give NULL.
   * The numerator as FLOAT: NUMBER / NUMBER is a NUMBER rounded to a few decimals here (1/3 is
   * 0.333333), where the other warehouses divide as doubles.
   */
  safeDivide(numerator: string, denominator: string): string {
    return `case when (${denominator}) = 0 then null else cast(${numerator} as FLOAT) / (${denominator}) end`;
  }

  dateTrunc(unit: TruncUnit, expr: string): string {
    return `date_trunc('${unit}', ${expr})`;
  }

  secondsBetween(start: string, end: string): string {
    return `timestampdiff(microsecond, ${start}, ${end}) / 1e6`;
  }

  /** ROW_NUMBER needs an ORDER BY here; SEQ8 numbers rows as they come, without a sort. */
  rowSequence(): string {
    return 'seq8()';
  }

  /** Clustered only when cluster_by is configured: automatic clustering bills credits by itself (as in dbt-snowflake). */
  createTableAs(table: string, select: string, storage?: TableStorage): string[] {
    const cluster = storage?.clusterConfigured && storage.cluster.length > 0 ? ` cluster by (${storage.cluster.map((c) => this.quoteIdent(c)).join(', ')})` : '';
    return [`create or replace table ${table}${cluster} as\n${select}`];
  }

  latestPerEntity(q: LatestQuery): string {
    return this.qualifyLatest(q);
  }

  /** HASH is a signed 64-bit number. */
  tieBreak(columns: string[]): string {
    return columns.length === 0 ? '0' : `hash(${columns.join(', ')})`;
  }

  epochMicros(expr: string): string {
    return `date_part(epoch_microsecond, ${expr})`;
  }

  /** `/` is exact decimal division here; FLOOR rounds negative values down. */
  floorDivide(expr: string, divisor: number): string {
    return `cast(floor((${expr}) / ${divisor}) as ${TYPES.int64})`;
  }

  orderedArray(expr: string, order: string[]): string {
    return `array_agg(${expr}) within group (order by ${order.join(', ')})`;
  }

  /** ARRAY_AGG leaves NULLs out. */
  sortedDistinctArray(expr: string): string {
    return `array_agg(distinct ${expr}) within group (order by ${expr})`;
  }

  /** TO_JSON gives a VARCHAR. */
  jsonText(array: string): string {
    return `to_json(${array})`;
  }

  /** APPROX_PERCENTILE (t-digest) has one fraction per call. */
  quantileAggregates(expr: string, ps: readonly number[]): string[] {
    return ps.map((p) => `approx_percentile(${expr}, ${p})`);
  }

  quantileAt(columns: string[], _ps: readonly number[], i: number): string {
    return columns[i];
  }

  approxDistinct(expr: string): string {
    return `approx_count_distinct(${expr})`;
  }

  orEmptyArray(expr: string): string {
    return `coalesce(${expr}, array_construct())`;
  }

  /**
   * MATCH_CONDITION compares single columns, so the feature rows are first reduced to one per
   * (keys, timestamp) with QUALIFY (created_timestamp, then the tie-break); the ASOF join then
   * yields at most one row per event.
   */
  override asofJoin(j: AsofJoin): string {
    const order = [...(j.created ? [`f.${j.created} desc nulls last`] : []), `${j.tie} desc`];
    const dedup = `\n  qualify row_number() over (partition by ${[...j.keys, j.timestamp].map((c) => `f.${c}`).join(', ')} order by ${order.join(', ')}) = 1`;
    return `asof join ${j.scan([], dedup)}\n  match_condition (${j.eventTs} >= ${j.alias}.${j.timestamp})\n  on ${j.equalities.join(' and ')}`;
  }

  override selectAllExcept(alias: string, columns: string[]): string {
    return columns.length === 0 ? `${alias}.*` : `${alias}.* exclude (${columns.map((c) => this.quoteIdent(c)).join(', ')})`;
  }

  /**
   * Snowflake's MERGE has no WHEN NOT MATCHED BY SOURCE, so the range is replaced by DELETE and
   * INSERT run in one transaction (dbt-snowflake's delete+insert strategy).
   */
  incrementalWrite(table: string, select: string, timestamp: string, range: TimeRange): string[] {
    return this.deleteInsert(table, select, timestamp, range, false);
  }

  /** NUMBER(38) holds any sum or product of two int64 exactly. */
  checkedInt64(op: '+' | '-' | '*', a: string, b: string): string {
    const r = `(${a} ${op} ${b})`;
    return `case when ${r} between -9223372036854775808 and 9223372036854775807 then ${r} end`;
  }

  int64FromText(s: string): string {
    const n = `try_to_number(${s}, 38, 0)`;
    return `case when regexp_like(${s}, '[+-]?[0-9]+') then case when ${n} between -9223372036854775808 and 9223372036854775807 then ${n} end end`;
  }

  /** DAYOFWEEK depends on the WEEK_START parameter; DAYOFWEEKISO (1 Monday to 7 Sunday) does not. */
  extractPart(field: ExtractField, ts: string): string {
    return field === 'dayofweek' ? `(mod(dayofweekiso(${ts}), 7) + 1)` : `extract(${field} from ${ts})`;
  }

  /** Without a COLLATE specification, strings compare by UTF-8 bytes. */
  binaryOrder(s: string): string {
    return s;
  }
}
