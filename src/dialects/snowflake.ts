import { Dialect, type RelationName, type TimeRange, type TruncUnit } from './dialect.js';
import type { ScalarType, Timestamp } from '../values.js';

const TYPES: Record<ScalarType, string> = { int64: 'NUMBER(38,0)', float64: 'FLOAT', string: 'VARCHAR', boolean: 'BOOLEAN', timestamp: 'TIMESTAMP_NTZ' };

/**
 * Snowflake folds unquoted identifiers to upper case; fsql quotes every identifier it writes, so
 * plain lower-case names are quoted upper-cased (`user_id` -> "USER_ID") to meet the columns that
 * unquoted template SQL creates. Names with other characters keep their case.
 */
export class SnowflakeDialect extends Dialect {
  readonly name = 'snowflake' as const;
  readonly hasAsofJoin = true;
  readonly rangeNeedsNumericKey = false;

  quoteIdent(name: string): string {
    const folded = /^[A-Za-z_][A-Za-z0-9_$]*$/.test(name) ? name.toUpperCase() : name;
    return `"${folded.replace(/"/g, '""')}"`;
  }

  relation(r: RelationName): string {
    return [r.database, r.schema, r.name].filter((p): p is string => Boolean(p)).map((p) => this.quoteIdent(p)).join('.');
  }

  override stringLiteral(s: string): string {
    return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
  }

  timestampLiteral(ts: Timestamp): string {
    return `'${ts.toSqlText()}'::timestamp_ntz`;
  }

  override intervalLiteral(seconds: number): string {
    const { count, unit } = this.unit(seconds);
    return `interval '${count} ${unit}s'`;
  }

  timeAdd(expr: string, seconds: number): string {
    const { count, unit } = this.unit(seconds);
    return `dateadd(${unit}, ${seconds < 0 ? -count : count}, ${expr})`;
  }

  castTo(expr: string, type: ScalarType): string {
    return `cast(${expr} as ${TYPES[type]})`;
  }

  override safeDivide(numerator: string, denominator: string): string {
    return `div0null(${numerator}, ${denominator})`;
  }

  dateTrunc(unit: TruncUnit, expr: string): string {
    return `date_trunc('${unit}', ${expr})`;
  }

  secondsBetween(start: string, end: string): string {
    return `timestampdiff(microsecond, ${start}, ${end}) / 1e6`;
  }

  /** ROW_NUMBER needs an ORDER BY here; SEQ8 numbers rows as they come, without a sort. */
  override rowSequence(): string {
    return 'seq8()';
  }

  override selectAllExcept(alias: string, columns: string[]): string {
    return columns.length === 0 ? `${alias}.*` : `${alias}.* exclude (${columns.map((c) => this.quoteIdent(c)).join(', ')})`;
  }

  /**
   * Snowflake's MERGE has no WHEN NOT MATCHED BY SOURCE, so the range is replaced by DELETE and
   * INSERT run in one transaction (dbt-snowflake's delete+insert strategy).
   */
  incrementalWrite(table: string, select: string, timestamp: string, range: TimeRange): string[] {
    const cond = this.rangeCondition(this.quoteIdent(timestamp), range);
    return [`delete from ${table} where ${cond}`, `insert into ${table}\nselect * from (\n${select}\n) where ${cond}`];
  }
}
