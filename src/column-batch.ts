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
  | { kind: 'varchar'; slots: Buffer; lengths: Uint32Array; outOfLine: (row: number) => Uint8Array; valid: Validity }
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

type Varchar = Extract<BatchColumn, { kind: 'varchar' }>;

/** The text of a non-NULL varchar cell. */
function varcharText(c: Varchar, i: number): string {
  const length = c.lengths[i * 4];
  if (length <= INLINE_BYTES) {
    const b = c.slots;
    const at = i * 16 + 4;
    let high = 0;
    for (let k = at; k < at + length; k++) high |= b[k];
    if (high >= 0x80) return b.toString('utf8', at, at + length);
    // ASCII: the slot's 12 bytes as character codes, cut to length (3-4x faster than a UTF-8 decode
    // of a few bytes: an aggregate sync reads millions of short distinct values)
    return String.fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3], b[at + 4], b[at + 5], b[at + 6], b[at + 7], b[at + 8], b[at + 9], b[at + 10], b[at + 11]).slice(0, length);
  }
  const bytes = c.outOfLine(i);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
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
      return varcharText(c, i);
    case 'values':
      return c.values[i];
  }
}

/** A whole column as fsql values: valueAt for every row, one loop per kind (a shared loop calling a closure per cell measured slower). */
export function valuesOf(c: BatchColumn, rows: number): Value[] {
  if (c.kind === 'values') return c.values;
  const out = new Array<Value>(rows).fill(null);
  const valid = c.valid;
  const present = (i: number) => valid === null || ((valid[i >> 3] >> (i & 7)) & 1) === 1;
  switch (c.kind) {
    case 'int64':
      for (let i = 0; i < rows; i++) if (present(i)) out[i] = c.big[i];
      break;
    case 'timestamp':
      for (let i = 0; i < rows; i++) if (present(i)) out[i] = new Timestamp(c.big[i]);
      break;
    case 'float64':
      for (let i = 0; i < rows; i++) if (present(i)) out[i] = c.floats[i];
      break;
    case 'boolean':
      for (let i = 0; i < rows; i++) if (present(i)) out[i] = c.bytes[i] !== 0;
      break;
    case 'varchar':
      for (let i = 0; i < rows; i++) if (present(i)) out[i] = varcharText(c, i);
      break;
  }
  return out;
}

/** Rows as a batch of `values` columns, named after the first row's properties. */
function batchFromRows(rows: Row[]): ColumnBatch {
  const names = rows.length > 0 ? Object.keys(rows[0]) : [];
  return { rows: rows.length, names, columns: names.map((n) => ({ kind: 'values', values: rows.map((r) => r[n] ?? null) })) };
}

/** A row stream as batches (warehouses without a columnar reader). */
export async function* batchesFromRows(chunks: AsyncIterable<Row[]>): AsyncIterable<ColumnBatch> {
  for await (const rows of chunks) if (rows.length > 0) yield batchFromRows(rows);
}
