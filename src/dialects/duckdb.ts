import { Dialect, type RelationName, type TimeRange, type TruncUnit } from './dialect.js';
import type { ScalarType, Timestamp } from '../values.js';

const TYPES: Record<ScalarType, string> = { int64: 'bigint', float64: 'double', string: 'varchar', boolean: 'boolean', timestamp: 'timestamp' };

export class DuckDbDialect extends Dialect {
  readonly name = 'duckdb' as const;
  readonly hasAsofJoin = true;
  readonly rangeNeedsNumericKey = false;
  override readonly readsFiles = true;
  override readonly writesFiles = true;
  override readonly insertionOrderColumn = 'rowid';

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

  /** Parquet carries its row numbers (file_row_number); csv has none without a single-threaded scan. */
  override selectFileInOrder(path: string, rowColumn: string): string | undefined {
    if (!/\.parquet$/i.test(path)) return undefined;
    return `select * exclude (file_row_number), file_row_number as ${this.quoteIdent(rowColumn)} from read_parquet(${this.stringLiteral(path)}, file_row_number = true)`;
  }

  override readFile(path: string): string {
    const lit = this.stringLiteral(path);
    return /\.parquet$/i.test(path) ? `read_parquet(${lit})` : `read_csv(${lit}, auto_detect = true, header = true)`;
  }

  override selectAllExcept(alias: string, columns: string[]): string {
    return columns.length === 0 ? `${alias}.*` : `${alias}.* exclude (${columns.map((c) => this.quoteIdent(c)).join(', ')})`;
  }

  override structOf(fields: [name: string, expr: string][]): string {
    return `struct_pack(${fields.map(([n, e]) => `${this.quoteIdent(n)} := ${e}`).join(', ')})`;
  }

  override structField(expr: string, name: string): string {
    return `(${expr}).${this.quoteIdent(name)}`;
  }

  /** Straight to `path` (no `tmp_` file of DuckDB's own): callers write a temporary path and rename it. */
  override copyToFile(select: string, path: string, format: 'csv' | 'parquet'): string {
    return `copy (\n${select}\n) to ${this.stringLiteral(path)} (format ${format}${format === 'csv' ? ', header true' : ''}, use_tmp_file false)`;
  }

  incrementalWrite(table: string, select: string, timestamp: string, range: TimeRange): string[] {
    const cond = this.rangeCondition(this.quoteIdent(timestamp), range);
    return [
      `delete from ${table} where ${cond}`,
      `insert into ${table} by name\nselect * from (\n${select}\n) as fsql_new where ${cond}`,
    ];
  }
}
