/**
 * The RESP bytes of one batch of rows for a single Redis server, built in one synchronous pass.
 *
 * Each row's text goes straight into a pooled Buffer: while Redis works, only Buffers (outside the
 * JS heap, reused) and an Int32Array of offsets stay alive, never per-row strings. Keeping those alive across the wait made the garbage collector copy them
 * from scavenge to scavenge, the largest single cost of a sync (measured: over a third of its CPU).
 *
 * Two forms:
 *  - `nx`: `SET key value [PXAT t] NX` per row. Atomic "write only where absent", so it can never
 *    replace a newer row; the rows whose key exists are cut back out of the bytes by their offsets
 *    and go through the script (`scriptPayload`).
 *  - script: `EVALSHA <put script> n keys... (value, expiry)...` per ROWS_PER_CALL rows.
 *
 * Every part is ASCII (keys are percent-escaped, values are ASCII by codec.ts), so a string's
 * length is its byte length and it is copied as latin1, without UTF-8 encoding.
 */

/** Rows per script call: bounds how long one call holds Redis (about 1-2 ms). */
export const ROWS_PER_CALL = 500;

/** A row as it travels: key, stored value, expiry argument ('0' none, '-1' expired, else Unix ms). */
export type Entry = [key: string, value: string, at: string];

/** Commands ready to send: `bytes` is a view of a pooled buffer; `count` replies are expected. */
export interface Payload {
  buf: Buffer;
  bytes: Buffer;
  count: number;
}

export interface NxBatch extends Payload {
  /** per SET: start and end of key, value and expiry in `bytes` (expiry 0,0 when none) */
  offsets: Int32Array;
}

/** Reusable write buffers; a sync has a few batches in flight at most. */
export class BufferPool {
  private readonly free: Buffer[] = [];

  constructor(private readonly keep = 8) {}

  take(bytes: number): Buffer {
    const buf = this.free.pop();
    return buf && buf.length >= bytes ? buf : Buffer.allocUnsafeSlow(Math.max(bytes, 1 << 20));
  }

  /** Call once the payload's replies have arrived (so every byte has been sent). */
  give(payload: Payload | undefined): void {
    if (payload && this.free.length < this.keep) this.free.push(payload.buf);
  }
}

/**
 * Appends ASCII strings to a pooled buffer, growing it when needed. Rows are gathered into ~16 KB
 * of text and then copied in one call: measured faster than one batch-sized string, and than one
 * copy per row.
 */
class ByteWriter {
  private buf: Buffer;
  private written = 0;
  private pending = '';

  constructor(private readonly pool: BufferPool) {
    this.buf = pool.take(1 << 20);
  }

  /** Bytes so far, including text not yet copied. */
  get at(): number {
    return this.written + this.pending.length;
  }

  write(text: string): void {
    this.pending += text;
    if (this.pending.length >= 16384) this.flush();
  }

  done(count: number): Payload {
    this.flush();
    return { buf: this.buf, bytes: this.buf.subarray(0, this.written), count };
  }

  private flush(): void {
    const text = this.pending;
    this.pending = '';
    if (this.written + text.length > this.buf.length) {
      const bigger = this.pool.take(Math.max(this.buf.length * 2, this.written + text.length));
      this.buf.copy(bigger, 0, 0, this.written);
      this.buf = bigger;
    }
    this.written += this.buf.write(text, this.written, 'latin1');
  }
}

export class NxBuilder {
  private readonly out: ByteWriter;
  private count = 0;
  private readonly offsets: Int32Array;

  constructor(rows: number, pool: BufferPool) {
    this.out = new ByteWriter(pool);
    this.offsets = new Int32Array(rows * 6);
  }

  add(key: string, value: string, at: string): void {
    const o = this.count * 6;
    const head = `*${at === '0' ? 4 : 6}\r\n$3\r\nSET\r\n$${key.length}\r\n`;
    const mid = `\r\n$${value.length}\r\n`;
    const tail = at === '0' ? '' : `\r\n$4\r\nPXAT\r\n$${at.length}\r\n`;
    const start = this.out.at;
    this.offsets[o] = start + head.length;
    this.offsets[o + 1] = this.offsets[o] + key.length;
    this.offsets[o + 2] = this.offsets[o + 1] + mid.length;
    this.offsets[o + 3] = this.offsets[o + 2] + value.length;
    if (at !== '0') {
      this.offsets[o + 4] = this.offsets[o + 3] + tail.length;
      this.offsets[o + 5] = this.offsets[o + 4] + at.length;
    }
    this.out.write(`${head}${key}${mid}${value}${tail}${at === '0' ? '' : at}\r\n$2\r\nNX\r\n`);
    this.count++;
  }

  build(): NxBatch | undefined {
    return this.count === 0 ? undefined : { ...this.out.done(this.count), offsets: this.offsets };
  }
}

/** The entry of the i-th SET of an NX batch, cut back out of its bytes. */
export function nxEntry(batch: NxBatch, i: number): Entry {
  const o = i * 6;
  const cut = (a: number, b: number) => batch.bytes.toString('latin1', batch.offsets[a], batch.offsets[b]);
  return [cut(o, o + 1), cut(o + 2, o + 3), batch.offsets[o + 5] > 0 ? cut(o + 4, o + 5) : '0'];
}

/** EVALSHA calls of the put script over `entries`, ROWS_PER_CALL rows per call. */
export function scriptPayload(sha: string, entries: readonly Entry[], pool: BufferPool): Payload {
  const out = new ByteWriter(pool);
  let calls = 0;
  for (let c = 0; c < entries.length; c += ROWS_PER_CALL) {
    const end = Math.min(entries.length, c + ROWS_PER_CALL);
    const n = String(end - c);
    out.write(`*${3 + 3 * (end - c)}\r\n$7\r\nEVALSHA\r\n$${sha.length}\r\n${sha}\r\n$${n.length}\r\n${n}\r\n`);
    for (let i = c; i < end; i++) out.write(`$${entries[i][0].length}\r\n${entries[i][0]}\r\n`);
    for (let i = c; i < end; i++) out.write(`$${entries[i][1].length}\r\n${entries[i][1]}\r\n$${entries[i][2].length}\r\n${entries[i][2]}\r\n`);
    calls++;
  }
  return out.done(calls);
}
