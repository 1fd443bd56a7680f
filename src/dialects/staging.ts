/** SQL that stages `fsql train`'s events in the warehouse, keeping their input order. */
import type { EventSource } from '../plans/events.js';
import { ROW_COLUMN } from '../plans/point-in-time.js';
import type { RelationName } from '../plans/relation.js';
import type { Column, DataType } from '../values.js';
import type { Dialect } from './dialect.js';
import { dialectFor } from './index.js';

export interface Staging {
  kind: 'table' | 'view';
  orderColumn?: string;
  /** the statements, run together; for a file, what the warehouse's loadFile amounts to */
  statements: string[];
  /** how: run the statements, load the file, or number it locally and upload that */
  how: 'execute' | 'load' | 'upload';
}

/**
 * How the events are staged: where the warehouse can number a file's rows in place (DuckDB,
 * parquet), a view over the file; else a table whose insertion order is the input order (DuckDB's
 * rowid), or a table with a ROW_COLUMN numbering the rows (a file numbered locally, then uploaded).
 */
export function renderStaging(d: Dialect, source: EventSource, staged: RelationName): Staging {
  const rel = d.relation(staged);
  const number = d.insertionOrderColumn ? '' : `, ${d.rowSequence()} as ${d.quoteIdent(ROW_COLUMN)}`;
  if (source.kind === 'file') {
    const inPlace = d.selectFileInOrder(source.path, ROW_COLUMN);
    if (inPlace) return { kind: 'view', statements: [d.createViewAs(rel, inPlace)], how: 'execute' };
    if (d.readsFiles) return { kind: 'table', orderColumn: d.insertionOrderColumn, statements: renderLoadFile(d, source.path, staged), how: 'load' };
    return { kind: 'table', statements: [`-- load ${source.display} into ${rel}, its rows numbered in file order in column ${ROW_COLUMN}`], how: 'upload' };
  }
  const from = source.kind === 'table' ? d.relation(source.table) : `(\n${source.query}\n) as fsql_source`;
  return { kind: 'table', orderColumn: d.insertionOrderColumn, statements: d.createTableAs(rel, `select *${number} from ${from}`), how: 'execute' };
}

/** A local file read into a table (dialects that read files). */
export function renderLoadFile(d: Dialect, path: string, table: RelationName): string[] {
  return d.createTableAs(d.relation(table), `select * from ${d.readFile(path)}`);
}

/** A local file copied to a parquet file with a ROW_COLUMN numbering its rows in file order (dialects that read and write files). */
export function renderNumberedFile(d: Dialect, path: string, out: string): string {
  return d.copyToFile(`select *, row_number() over () as ${d.quoteIdent(ROW_COLUMN)} from ${d.readFile(path)}`, out, 'parquet');
}

/** A local DuckDB statement: the csv fsql wrote (csvField's form) to parquet with the columns' types; lists travel as JSON text. */
export function renderCsvToParquet(csv: string, columns: Column[], out: string): string {
  const d = dialectFor('duckdb');
  const types = columns.map((c) => `${d.stringLiteral(c.name)}: ${d.stringLiteral(c.type.type === 'array' ? 'VARCHAR' : duckDbType(c.type))}`).join(', ');
  const read = `read_csv(${d.stringLiteral(csv)}, header = true, auto_detect = false, quote = '"', escape = '"', allow_quoted_nulls = false, columns = {${types}})`;
  const select = columns.map((c) => (c.type.type === 'array' ? `cast(cast(${d.quoteIdent(c.name)} as json) as ${duckDbType(c.type)}) as ${d.quoteIdent(c.name)}` : d.quoteIdent(c.name)));
  return d.copyToFile(`select ${select.join(', ')} from ${read}`, out, 'parquet');
}

/** A type's name in DuckDB (for local DuckDB statements). */
export function duckDbType(t: DataType): string {
  switch (t.type) {
    case 'int64':
      return 'BIGINT';
    case 'float64':
      return 'DOUBLE';
    case 'boolean':
      return 'BOOLEAN';
    case 'timestamp':
      return 'TIMESTAMP';
    case 'string':
      return 'VARCHAR';
    case 'array':
      return `${duckDbType(t.elementType ?? { type: 'string' })}[]`;
  }
}
