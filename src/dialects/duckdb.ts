import { Dialect, type RelationName, type TimeRange, type TruncUnit } from './dialect.js';
import type { ScalarType, Timestamp } from '../values.js';

const TYPES: Record<ScalarType, string> = { int64: 'bigint', float64: 'double', string: 'varchar', boolean: 'boolean', timestamp: 'timestamp' };

export class DuckDbDialect extends Dialect {
  readonly name = 'duckdb' as const;
  readonly hasAsofJoin = true;
  readonly rangeNeedsNumericKey = false;
  override readonly readsFiles = true;

  quoteIdent(name: string): string {
    return `"${name.replace(/"/g, '""')}"`;
  }

  relation(r: RelationName): string {
    return [r.database, r.schema, r.name].filter((p): p is string => Boolean(p)).map((p) => this.quoteIdent(p)).join('.');
  }

  override stringLiteral(s: string): string {
    return `'${s.replace(/'/g, "''")}'`;
  }

  timestampLiteral(ts: Timestamp): string {
    return `timestamp '${ts.toSqlText()}'`;
  }

  override intervalLiteral(seconds: number): string {
    const { count, unit } = this.unit(seconds);
    return `interval ${count} ${unit}`;
  }

  timeAdd(expr: string, seconds: number): string {
    return `(${expr} ${seconds < 0 ? '-' : '+'} ${this.intervalLiteral(seconds)})`;
  }

  castTo(expr: string, type: ScalarType): string {
    return `cast(${expr} as ${TYPES[type]})`;
  }

  dateTrunc(unit: TruncUnit, expr: string): string {
    return `date_trunc('${unit}', ${expr})`;
  }

  secondsBetween(start: string, end: string): string {
    return `(epoch_us(${end}) - epoch_us(${start})) / 1e6`;
  }

  override readFile(path: string): string {
    const lit = this.stringLiteral(path);
    return /\.parquet$/i.test(path) ? `read_parquet(${lit})` : `read_csv(${lit}, auto_detect = true, header = true)`;
  }

  incrementalWrite(table: string, select: string, timestamp: string, range: TimeRange): string[] {
    const cond = this.rangeCondition(this.quoteIdent(timestamp), range);
    return [
      `delete from ${table} where ${cond}`,
      `insert into ${table} by name\nselect * from (\n${select}\n) as fsql_new where ${cond}`,
    ];
  }
}
