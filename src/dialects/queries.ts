/**
 * The small queries operations ask of a warehouse besides builds and joins: counts, the newest
 * timestamp of a table, the entities with the newest rows, literal rows. Standard SQL on the
 * dialect's quoting and literals; each names its output columns.
 */
import type { RelationName } from '../plans/relation.js';
import type { DataType, Timestamp, Value } from '../values.js';
import type { Dialect } from './dialect.js';

/** The number of rows (column n) of a table, or of a SELECT's result. */
export function renderCount(d: Dialect, from: RelationName | string): string {
  return `select count(*) as n from ${typeof from === 'string' ? `(\n${from}\n) as fsql_counted` : d.relation(from)}`;
}

/**
 * The newest `timestamp` (column `newest`) among rows with every `notNull` column set and, with
 * `until`, not after it; `from` a table, or a source's rendered relation (a file on DuckDB).
 */
export function renderNewest(d: Dialect, from: RelationName | string, timestamp: string, opts: { notNull?: string[]; until?: Timestamp } = {}): string {
  const ts = d.quoteIdent(timestamp);
  const where = [...(opts.notNull ?? []).map((c) => `${d.quoteIdent(c)} is not null`), ...(opts.until ? [`${ts} <= ${d.timestampLiteral(opts.until)}`] : [])];
  return `select max(${ts}) as newest from ${typeof from === 'string' ? from : d.relation(from)}${where.length > 0 ? ` where ${where.join(' and ')}` : ''}`;
}

/** The `limit` entities (distinct `keys`) whose newest row is newest, newest first. */
export function renderNewestEntities(d: Dialect, table: RelationName, keys: string[], timestamp: string, limit: number): string {
  const q = keys.map((k) => d.quoteIdent(k));
  return `select ${q.join(', ')}, max(${d.quoteIdent(timestamp)}) as fsql_newest from ${d.relation(table)} where ${q.map((k) => `${k} is not null`).join(' and ')} group by ${q.join(', ')} order by fsql_newest desc limit ${limit}`;
}

/** A literal of a value of `type`, typed as the warehouse would store it. */
export function renderLiteral(d: Dialect, v: Value, type: DataType): string {
  if (v === null) return 'null';
  switch (type.type) {
    case 'int64':
      return d.castTo(String(BigInt(v as bigint | number)), 'int64');
    case 'float64':
      return d.castTo(String(Number(v)), 'float64');
    case 'boolean':
      return v ? 'true' : 'false';
    case 'timestamp':
      return d.timestampLiteral(v as Timestamp);
    default:
      return d.stringLiteral(String(v));
  }
}

/** Rows of literal values (each row's cells as [column, literal]) as one SELECT. */
export function renderRows(d: Dialect, rows: [column: string, literal: string][][]): string {
  const selects = rows.map((r) => `select ${r.map(([c, lit]) => `${lit} as ${d.quoteIdent(c)}`).join(', ')}`);
  return `select * from (\n${selects.join('\nunion all\n')}\n) as fsql_rows`;
}

/** No rows, but the file opened and its columns read (dialects that read files): a wrong path or format fails here. */
export function renderFileProbe(d: Dialect, path: string): string {
  return `select * from ${d.readFile(path)} limit 0`;
}

/** A connection check (`fsql debug`): one row, column `ok`. */
export function renderConnectionCheck(): string {
  return 'select 1 as ok';
}

/** The first `limit` rows of a compiled SELECT, built nowhere (`fsql show`). */
export function renderPreview(select: string, limit: number): string {
  return `select * from (\n${select.replace(/;\s*$/, '')}\n) as fsql_preview limit ${limit}`;
}
