/**
 * The RESP bytes of one batch of rows for a single Redis server, built in one synchronous pass.
 *
 * Each row is written straight into a pooled Buffer (ascii-writer.ts, codec.ts writeStored): while
 * Redis works, only Buffers (outside the JS heap, reused) and typed arrays of offsets stay alive,
 * never per-row strings. Keeping those alive across the wait made the garbage collector copy them
 * from scavenge to scavenge, the largest single cost of a sync (measured: over a third of its CPU).
 *
 * A batch (`Staged`) holds each row's key and stored value as byte ranges, and its expiry, in one of
 * two forms:
 *  - `nx`: the bytes are `SET key value [PXAT t] NX` per row, ready to send. Atomic "write only where
 *    absent", so it can never replace a newer row; the rows whose key exists are copied out by their
 *    ranges into script calls (`scriptPayload`).
 *  - plain: just keys and values back to back, for `scriptPayload` to frame as
 *    `EVALSHA <put script> n keys... (value, expiry)...`, ROWS_PER_CALL rows per call.
 *
 * Every part is ASCII (keys are percent-escaped, values are ASCII by codec.ts), so a string's
 * length is its byte length.
 */
import { AsciiWriter, digitCount, putDigits } from '../ascii-writer.js';
import type { RowSource } from '../row-source.js';
import { arrayHeader, bulkBytes, bulkText, CR, crlf, DOLLAR, LF } from './resp.js';

/** Rows per script call: bounds how long one call holds Redis (about 1-2 ms). */
export const ROWS_PER_CALL = 500;

/** Commands ready to send: `bytes` is a view of a pooled buffer; `count` replies are expected. */
export interface Payload {
  buf: Buffer;
  bytes: Buffer;
  count: number;
}

export interface Staged extends Payload {
  /** per row: start and end of its key, then of its value, in `bytes` */
  ranges: Int32Array;
  /** per row: its expiry argument (Unix ms; 0 none; -1 already expired) */
  expiries: Float64Array;
}

/**
 * Reusable write buffers; a sync has a few batches in flight at most. Reusing them matters: each
 * new Buffer is external memory, and allocating megabytes per batch made V8 run full collections.
 */
export class BufferPool {
  private readonly free: Buffer[] = [];

  constructor(private readonly keep = 8) {}

  take(bytes: number): Buffer {
    const i = this.free.findIndex((b) => b.length >= bytes);
    if (i >= 0) return this.free.splice(i, 1)[0];
    return Buffer.allocUnsafeSlow(Math.max(bytes, 1 << 20));
  }

  /** Returns a buffer no longer in use (a payload's once its replies have arrived, so every byte has been sent). */
  give(buf: Buffer | undefined): void {
    if (!buf) return;
    this.free.push(buf);
    // Keep the largest.
    if (this.free.length > this.keep) this.free.splice(this.free.indexOf(this.free.reduce((a, b) => (a.length <= b.length ? a : b))), 1);
  }
}

const SET_NX = Buffer.from('*4\r\n$3\r\nSET\r\n', 'latin1');
const SET_PXAT_NX = Buffer.from('*6\r\n$3\r\nSET\r\n', 'latin1');
const PXAT = Buffer.from('$4\r\nPXAT\r\n', 'latin1');
const NX = Buffer.from('$2\r\nNX\r\n', 'latin1');
const CLOSE_BRACE = 0x7d;
/** Digits reserved for the length of a value written in place: values of 100 to 999 bytes need no move. */
const VALUE_DIGITS = 3;
/** The same for keys: 10 to 99 bytes. */
const KEY_DIGITS = 2;

function writeKey(w: AsciiWriter, keyHead: Uint8Array, src: RowSource, i: number): void {
  w.all(keyHead);
  src.writeEntity(w, i);
  w.byte(CLOSE_BRACE);
}

/** `$<digits>\r\n<digits>\r\n` for an integer argument. */
function bulkInt(w: AsciiWriter, n: number): void {
  const start = beginBulk(w, VALUE_DIGITS);
  w.int(n);
  endBulk(w, start, VALUE_DIGITS);
}

/** Starts `$<length>\r\n<content>\r\n` whose length is known only once the content is written; returns where the content starts. */
function beginBulk(w: AsciiWriter, digits: number): number {
  w.room(digits + 3);
  w.buf[w.at] = DOLLAR;
  w.at += digits + 3;
  return w.at;
}

/** Fills in the length (moving the content when it needs other than the `digits` reserved); returns where the content now starts. */
function endBulk(w: AsciiWriter, start: number, digits: number): number {
  const length = w.at - start;
  const shift = digitCount(length) - digits;
  if (shift !== 0) {
    w.room(shift);
    w.buf.copyWithin(start + shift, start, w.at);
    w.at += shift;
    start += shift;
  }
  putDigits(w.buf, start - 2, length);
  w.buf[start - 2] = CR;
  w.buf[start - 1] = LF;
  crlf(w);
  return start;
}

export class BatchBuilder {
  private readonly out: AsciiWriter;
  private count = 0;
  private readonly ranges: Int32Array;
  private readonly expiries: Float64Array;

  /** `nx`: write SET ... NX commands; else plain keys and values for scriptPayload. */
  constructor(
    rows: number,
    pool: BufferPool,
    private readonly nx: boolean,
  ) {
    this.out = new AsciiWriter(pool, 1 << 20);
    this.ranges = new Int32Array(rows * 4);
    this.expiries = new Float64Array(rows);
  }

  /** Row i of `src`, whose key is `keyHead` (RedisKeys.rowHead), its entity (entityAfterName), then '}'. */
  add(keyHead: Uint8Array, src: RowSource, i: number, expiry: number): void {
    const w = this.out;
    const r = this.count * 4;
    if (this.nx) {
      w.all(expiry > 0 ? SET_PXAT_NX : SET_NX);
      const key = beginBulk(w, KEY_DIGITS);
      writeKey(w, keyHead, src, i);
      this.ranges[r] = endBulk(w, key, KEY_DIGITS);
      this.ranges[r + 1] = w.at - 2;
      const value = beginBulk(w, VALUE_DIGITS);
      src.writeStored(w, i);
      this.ranges[r + 2] = endBulk(w, value, VALUE_DIGITS);
      this.ranges[r + 3] = w.at - 2;
      if (expiry > 0) {
        w.all(PXAT);
        bulkInt(w, expiry);
      }
      w.all(NX);
    } else {
      this.ranges[r] = w.at;
      writeKey(w, keyHead, src, i);
      this.ranges[r + 1] = w.at;
      this.ranges[r + 2] = w.at;
      src.writeStored(w, i);
      this.ranges[r + 3] = w.at;
    }
    this.expiries[this.count] = expiry;
    this.count++;
  }

  build(): Staged | undefined {
    if (this.count === 0) return undefined;
    return { buf: this.out.buf, bytes: this.out.buf.subarray(0, this.out.at), count: this.count, ranges: this.ranges, expiries: this.expiries };
  }
}

/**
 * `SET key value [PXAT t] NX` for the given rows of a plain batch, as a batch of its own (a
 * cluster's share of one primary, framed after the rows were read: see redis/store.ts).
 */
export function setNxPayload(batch: Staged, rows: readonly number[], pool: BufferPool): Staged {
  const w = new AsciiWriter(pool, 1 << 20);
  const { bytes, ranges, expiries } = batch;
  const out = new Int32Array(rows.length * 4);
  const outExpiries = new Float64Array(rows.length);
  rows.forEach((row, j) => {
    const expiry = expiries[row];
    w.all(expiry > 0 ? SET_PXAT_NX : SET_NX);
    for (let part = 0; part < 4; part += 2) {
      const start = ranges[row * 4 + part];
      const end = ranges[row * 4 + part + 1];
      w.byte(DOLLAR);
      w.int(end - start);
      crlf(w);
      out[j * 4 + part] = w.at;
      w.bytes(bytes, start, end);
      out[j * 4 + part + 1] = w.at;
      crlf(w);
    }
    if (expiry > 0) {
      w.all(PXAT);
      bulkInt(w, expiry);
    }
    w.all(NX);
    outExpiries[j] = expiry;
  });
  return { buf: w.buf, bytes: w.buf.subarray(0, w.at), count: rows.length, ranges: out, expiries: outExpiries };
}

/**
 * EVALSHA calls of the put script over groups of rows of a batch, ROWS_PER_CALL rows per call at
 * most, one group's rows per call (in a cluster a group is a slot: a script touches one slot).
 */
export function scriptPayload(sha: string, batch: Staged, groups: readonly (readonly number[])[], pool: BufferPool): Payload {
  const w = new AsciiWriter(pool, 1 << 20);
  const { bytes, ranges, expiries } = batch;
  let calls = 0;
  for (const pick of groups) for (let c = 0; c < pick.length; c += ROWS_PER_CALL) {
    const end = Math.min(pick.length, c + ROWS_PER_CALL);
    arrayHeader(w, 3 + 3 * (end - c));
    bulkText(w, 'EVALSHA');
    bulkText(w, sha);
    bulkInt(w, end - c);
    for (let i = c; i < end; i++) bulkBytes(w, bytes, ranges[pick[i] * 4], ranges[pick[i] * 4 + 1]);
    for (let i = c; i < end; i++) {
      bulkBytes(w, bytes, ranges[pick[i] * 4 + 2], ranges[pick[i] * 4 + 3]);
      bulkInt(w, expiries[pick[i]]);
    }
    calls++;
  }
  return { buf: w.buf, bytes: w.buf.subarray(0, w.at), count: calls };
}
