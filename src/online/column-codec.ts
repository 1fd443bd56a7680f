/**
 * Redis rows written straight from a warehouse batch's columns (column-batch.ts): the same bytes as
 * codec.ts writeStored and keys.ts entityAfterName give for the values the batch holds, with no
 * value object per cell. 64-bit cells are read as two 32-bit words (a timestamp's sort key is its
 * words in hex, an int64 below 2^53 its digits), plain ASCII strings are copied as bytes. Anything
 * else (other column kinds, strings that need escaping, values beyond 2^53) goes through the value
 * writers of codec.ts, so there is one definition of every stored form.
 */
import { INLINE_BYTES, isNull, valueAt, type BatchColumn, type Validity } from '../column-batch.js';
import type { DataType } from '../values.js';
import type { AsciiWriter } from './ascii-writer.js';
import { CLOSE, COMMA, jsonPlain, QUOTE } from './ascii-writer.js';
import { FALSE, featuresHead, NO_CREATED_HEX, NULL, TRUE, valueWriterFor } from './codec.js';
import { timestampAt, rowTimestamp } from './column-rows.js';
import { entityAfterName } from './keys.js';
import { expiryArg, expiryFromMicros, type RowSource } from './row-source.js';
import type { ColumnRows, ViewLayout } from './store.js';

type CellWriter = (w: AsciiWriter, i: number) => void;

type Varchar = Extract<BatchColumn, { kind: 'varchar' }>;

const TWO_32 = 4294967296;
/** High words whose 64-bit value is exact as a double: |v| <= 2^53. */
const SAFE_HI = 0x200000;

export function columnSource(layout: ViewLayout, rows: ColumnRows): RowSource {
  const { batch } = rows;
  const keyColumns = rows.keys.map((c) => batch.columns[c]);
  const ts = batch.columns[rows.ts];
  const created = rows.created === undefined ? undefined : batch.columns[rows.created];
  const head = featuresHead(layout);
  const features = layout.features.map((f, n) => featureWriter(f.type, batch.columns[rows.features[n]], `feature '${f.name}' of view '${layout.view}'`));
  const writeTs = sortKeyWriter(ts, (w, i) => w.hex64(rowTimestamp(rows, i).micros));
  const writeCreated = created
    ? sortKeyWriter(created, (w, i) => {
        const c = timestampAt(created, i, rows.createdWhat);
        if (c) w.hex64(c.micros);
        else w.all(NO_CREATED_HEX);
      })
    : (w: AsciiWriter) => w.all(NO_CREATED_HEX);
  return {
    length: batch.rows,
    hasKey: keyColumns.every((c) => c.kind !== 'values' && c.valid === null) ? () => true : (i) => keyColumns.every((c) => !isNull(c, i)),
    writeEntity: entityWriter(layout, keyColumns),
    writeStored: (w, i) => {
      writeTs(w, i);
      writeCreated(w, i);
      w.bytes(head, 0, head.length);
      for (let f = 0; f < features.length; f++) {
        if (f > 0) w.byte(COMMA);
        features[f](w, i);
      }
      w.byte(CLOSE);
    },
    expiry: expiryReader(layout, rows, ts),
  };
}

/** A timestamp column's half of the sort key: its words in hex, or `other` for NULL and other kinds. */
function sortKeyWriter(col: BatchColumn, other: CellWriter): CellWriter {
  if (col.kind !== 'timestamp') return other;
  const { words, valid } = col;
  const write: CellWriter = (w, i) => w.hex64Words(words[2 * i], words[2 * i + 1]);
  return valid === null ? write : (w, i) => (notNull(valid, i) ? write(w, i) : other(w, i));
}

/** The column's validity bitmap; null when no cell is NULL, and for value columns (whose NULLs are values). */
function validity(col: BatchColumn): Validity {
  return col.kind === 'values' ? null : col.valid;
}

function notNull(valid: Uint8Array, i: number): boolean {
  return ((valid[i >> 3] >> (i & 7)) & 1) === 1;
}

function expiryReader(layout: ViewLayout, rows: ColumnRows, ts: BatchColumn): (i: number) => number {
  const ttl = layout.ttlSeconds;
  if (ttl === undefined) return () => 0;
  const slow = (i: number) => expiryArg(layout, rowTimestamp(rows, i));
  if (ts.kind !== 'timestamp') return slow;
  const { words, valid } = ts;
  return (i) => {
    const hi = words[2 * i + 1] | 0;
    if ((valid !== null && !notNull(valid, i)) || hi < -SAFE_HI || hi >= SAFE_HI) return slow(i);
    return expiryFromMicros(ttl, hi * TWO_32 + words[2 * i]) ?? slow(i);
  };
}

/** Writes the entity id: a single string key's bytes escaped as keys.ts escapePart does, else through entityAfterName. */
function entityWriter(layout: ViewLayout, keys: BatchColumn[]): CellWriter {
  const [first] = keys;
  if (keys.length === 1 && layout.joinKeys[0].type.type === 'string' && first.kind === 'varchar') {
    return (w, i) => escapedBytes(w, first, i);
  }
  return (w, i) => w.text(entityAfterName(layout, keys.map((c) => valueAt(c, i)))!);
}

/** [A-Za-z0-9_.-]: the bytes escapePart keeps. */
const PLAIN_BYTE = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-') PLAIN_BYTE[c.charCodeAt(0)] = 1;
const HEX_UPPER = Buffer.from('0123456789ABCDEF', 'latin1');
const PERCENT = 37;

function escapedBytes(w: AsciiWriter, col: Varchar, i: number): void {
  const length = col.lengths[i * 4];
  const src = length <= INLINE_BYTES ? col.slots : col.outOfLine(i);
  const start = length <= INLINE_BYTES ? i * 16 + 4 : 0;
  w.room(length * 3);
  const buf = w.buf;
  let at = w.at;
  for (let p = start; p < start + length; p++) {
    const b = src[p];
    if (PLAIN_BYTE[b]) buf[at++] = b;
    else {
      buf[at++] = PERCENT;
      buf[at++] = HEX_UPPER[b >> 4];
      buf[at++] = HEX_UPPER[b & 15];
    }
  }
  w.at = at;
}

/** A feature cell's JSON as codec.ts writeFeatures writes it; null for NULL. */
function featureWriter(type: DataType, col: BatchColumn, what: string): CellWriter {
  const write = valueWriterFor(type, what);
  const viaValue: CellWriter = (w, i) => {
    const v = valueAt(col, i);
    if (v === null) w.all(NULL);
    else write(w, v);
  };
  const fast = fastWriter(type, col, write);
  const valid = validity(col);
  if (!fast) return viaValue;
  return valid === null ? fast : (w, i) => (notNull(valid, i) ? fast(w, i) : w.all(NULL));
}

/** The byte-level writer for a non-NULL cell where the column's kind is the feature's type; undefined for the others. */
function fastWriter(type: DataType, col: BatchColumn, write: (w: AsciiWriter, v: unknown) => void): CellWriter | undefined {
  if ((type.type === 'int64' && col.kind === 'int64') || (type.type === 'timestamp' && col.kind === 'timestamp')) {
    const { words, big } = col;
    return (w, i) => {
      const hi = words[2 * i + 1] | 0;
      w.byte(QUOTE);
      if (hi >= -SAFE_HI && hi < SAFE_HI) w.int(hi * TWO_32 + words[2 * i]);
      else w.bigint(big[i]);
      w.byte(QUOTE);
    };
  }
  if (type.type === 'float64' && col.kind === 'float64') {
    const { words, floats } = col;
    return (w, i) => {
      const hi = words[2 * i + 1];
      w.byte(QUOTE);
      // NaN: through the double, so its bits are the ones writeFeatures gives
      if ((hi & 0x7ff00000) === 0x7ff00000 && ((hi & 0xfffff) | words[2 * i]) !== 0) w.floatHex(floats[i]);
      else {
        w.hex32(hi);
        w.hex32(words[2 * i]);
      }
      w.byte(QUOTE);
    };
  }
  if (type.type === 'boolean' && col.kind === 'boolean') {
    const bytes = col.bytes;
    return (w, i) => w.all(bytes[i] !== 0 ? TRUE : FALSE);
  }
  if (type.type === 'string' && col.kind === 'varchar') {
    return (w, i) => {
      if (!plainText(w, col, i)) write(w, valueAt(col, i));
    };
  }
  return undefined;
}

/** Writes a varchar cell as a JSON string when its bytes need no escape (printable ASCII without '"' or '\'); false otherwise, writing nothing. */
function plainText(w: AsciiWriter, col: Varchar, i: number): boolean {
  const length = col.lengths[i * 4];
  const src = length <= INLINE_BYTES ? col.slots : col.outOfLine(i);
  const start = length <= INLINE_BYTES ? i * 16 + 4 : 0;
  for (let p = start; p < start + length; p++) if (!jsonPlain(src[p])) return false;
  w.byte(QUOTE);
  w.bytes(src, start, start + length);
  w.byte(QUOTE);
  return true;
}
