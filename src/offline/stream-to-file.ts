/**
 * Writes a query's rows to a local csv or parquet file chunk by chunk, for warehouses that cannot
 * write local files themselves (BigQuery, Snowflake). Memory stays flat: one chunk at a time.
 * Parquet goes through a csv file that a local in-memory DuckDB converts with the columns' types.
 */
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { renderCsvToParquet } from '../dialects/staging.js';
import { Timestamp, type Column, type Row, type Value } from '../values.js';
import { withLocalDuckDb } from '../warehouse/local-duckdb.js';
import type { Warehouse } from '../warehouse/warehouse.js';

export async function streamToFile(wh: Warehouse, select: string, columns: Column[], path: string, format: 'csv' | 'parquet', label?: string): Promise<number> {
  const rows = wh.stream(select, { label, chunkRows: 4096 });
  if (format === 'csv') return writeCsv(rows, columns.map((c) => c.name), path);
  const dir = mkdtempSync(join(dirname(path), '.fsql-stream-'));
  try {
    const csv = join(dir, 'rows.csv');
    const count = await writeCsv(rows, columns.map((c) => c.name), csv);
    await withLocalDuckDb((local) => local.execute(renderCsvToParquet(csv, columns, path)));
    return count;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * RFC 4180 csv with a header; NULL is an empty field, an empty string is "", a list is JSON text.
 * Returns the row count.
 */
export async function writeCsv(rows: AsyncIterable<Row[]>, header: string[], path: string): Promise<number> {
  const out = createWriteStream(path);
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  const write = async (text: string) => {
    if (!out.write(text)) await Promise.race([once(out, 'drain'), failed]);
  };
  let count = 0;
  try {
    await write(`${header.map(csvField).join(',')}\n`);
    for await (const chunk of rows) {
      await write(chunk.map((r) => `${Object.values(r).map(csvField).join(',')}\n`).join(''));
      count += chunk.length;
    }
    out.end();
    await Promise.race([once(out, 'finish'), failed]);
  } catch (e) {
    out.destroy();
    throw e;
  }
  return count;
}

export function csvField(v: Value): string {
  if (v === null) return '';
  const text = csvText(v);
  return text === '' || /[",\n\r]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csvText(v: Exclude<Value, null>): string {
  if (v instanceof Timestamp) return timestampText(v);
  if (Array.isArray(v)) return jsonText(v);
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : String(v);
  return String(v);
}

function timestampText(ts: Timestamp): string {
  const text = ts.toSqlText();
  return text.endsWith('.000000') ? text.slice(0, -7) : text;
}

/** JSON, with int64 digits kept exact and non-finite floats as strings. */
function jsonText(v: Value): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `[${v.map(jsonText).join(',')}]`;
  if (v instanceof Timestamp) return JSON.stringify(timestampText(v));
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number' && !Number.isFinite(v)) return JSON.stringify(csvText(v));
  return JSON.stringify(v);
}
