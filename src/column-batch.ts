/**
 * A result chunk column by column: how a warehouse hands `fsql sync` the latest rows.
 *
 * DuckDB fills it with views over its vectors' memory (duckdb-chunk.ts), so the online store's
 * encoder reads 64-bit values as two 32-bit words and strings as bytes, with no value object per
 * cell (a BigInt per int64, a Timestamp per timestamp, a row object per row were most of a sync's
 * CPU). Other warehouses give their rows as `values` columns (batchFromRows). `valueAt` turns any
 * cell into the fsql value the row readers give for it, so every consumer can fall back to values.
 *
 * Views over warehouse memory are valid while the batch is referenced (`owner` keeps the chunk
 * alive): read a batch before letting go of it, never after.
 */
import { Timestamp, type Row, type Value } from './values.js';

/** Bit i of byte i/8 set: row i is not NULL. null: no row is NULL. */
export type Validity = Uint8Array | null;

export type BatchColumn =
  /** int64 (two's complement) or timestamp (UTC microseconds): two little-endian words per row, and the same memory as bigints */
  | { kind: 'int64' | 'timestamp'; words: Uint32Array; big: BigInt64Array; valid: Validity }
  /** float64: the IEEE 754 bits as two little-endian words per row, and the same memory as doubles */
  | { kind: 'float64'; words: Uint32Array; floats: Float64Array; valid: Validity }
  | { kind: 'boolean'; bytes: Uint8Array; valid: Validity }
  /**
   * UTF-8 strings as DuckDB's 16-byte string_t slots: a 4-byte length, then the text itself when it
   * is 12 bytes or shorter, else `outOfLine(row)` gives its bytes.
   */
  | { kind: 'varchar'; slots: Uint8Array; lengths: Uint32Array; outOfLine: (row: number) => Uint8Array; valid: Validity }
  | { kind: 'values'; values: Value[] };

export interface ColumnBatch {
  rows: number;
  names: string[];
  columns: BatchColumn[];
  /** what the columns' memory belongs to, kept referenced as long as the batch is */
  owner?: unknown;
}

/** Bytes a varchar slot holds inline. */
export const INLINE_BYTES = 12;

export function isNull(c: BatchColumn, i: number): boolean {
  if (c.kind === 'values') return c.values[i] === null || c.values[i] === undefined;
  return c.valid !== null && ((c.valid[i >> 3] >> (i & 7)) & 1) === 0;
}

/** The bytes of a non-NULL varchar cell. */
export function varcharBytes(c: Extract<BatchColumn, { kind: 'varchar' }>, i: number): Uint8Array {
  const length = c.lengths[i * 4];
  return length <= INLINE_BYTES ? c.slots.subarray(i * 16 + 4, i * 16 + 4 + length) : c.outOfLine(i);
}

/** A cell as an fsql value (what the row readers give for it). */
export function valueAt(c: BatchColumn, i: number): Value {
  if (isNull(c, i)) return null;
  switch (c.kind) {
    case 'int64':
      return c.big[i];
    case 'timestamp':
      return new Timestamp(c.big[i]);
    case 'float64':
      return c.floats[i];
    case 'boolean':
      return c.bytes[i] !== 0;
    case 'varchar':
      return Buffer.from(varcharBytes(c, i)).toString('utf8');
    case 'values':
      return c.values[i];
  }
}

/** Rows as a batch of `values` columns, named after the first row's properties. */
export function batchFromRows(rows: Row[]): ColumnBatch {
  const names = rows.length > 0 ? Object.keys(rows[0]) : [];
  return { rows: rows.length, names, columns: names.map((n) => ({ kind: 'values', values: rows.map((r) => r[n] ?? null) })) };
}

/** A row stream as batches (warehouses without a columnar reader). */
export async function* batchesFromRows(chunks: AsyncIterable<Row[]>): AsyncIterable<ColumnBatch> {
  for await (const rows of chunks) if (rows.length > 0) yield batchFromRows(rows);
}
