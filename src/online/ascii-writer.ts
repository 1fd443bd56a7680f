/**
 * ASCII text written byte by byte into a growing Buffer: how stored rows and Redis commands are
 * built on the hot path of `fsql sync`. Numbers go in as digits without an intermediate string,
 * and nothing per row stays on the JS heap, which measured about 40% less CPU than building each
 * row as a string and copying it (the strings were many small pieces V8 had to join first).
 *
 * Every method writes ASCII only (codec.ts escapes non-ASCII text), so a byte count is a length.
 */
/** Where a writer gets its buffers (redis/batch.ts BufferPool). */
export interface BufferSource {
  take(bytes: number): Buffer;
  give(buf: Buffer): void;
}

export class AsciiWriter {
  buf: Buffer;
  /** bytes written so far */
  at = 0;

  /** Buffers come from `pool` when given (and outgrown ones go back to it). */
  constructor(
    private readonly pool?: BufferSource,
    initialBytes = 1 << 16,
  ) {
    this.buf = pool ? pool.take(initialBytes) : Buffer.allocUnsafeSlow(initialBytes);
  }

  /** Makes room for n more bytes. */
  room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const size = Math.max(this.buf.length * 2, this.at + n);
    const bigger = this.pool ? this.pool.take(size) : Buffer.allocUnsafeSlow(size);
    this.buf.copy(bigger, 0, 0, this.at);
    this.pool?.give(this.buf);
    this.buf = bigger;
  }

  /** Characters of an ASCII string, one byte each. */
  text(s: string): void {
    const n = s.length;
    this.room(n);
    if (n > 32) {
      this.at += this.buf.write(s, this.at, 'latin1');
      return;
    }
    const buf = this.buf;
    let at = this.at;
    for (let i = 0; i < n; i++) buf[at++] = s.charCodeAt(i);
    this.at = at;
  }

  /**
   * The characters of `s` when every one is printable ASCII (and, with `json`, none is a quote or a
   * backslash: its JSON string is then itself in quotes); else writes nothing and returns false, for
   * the caller to write an escaped form.
   */
  plain(s: string, json: boolean): boolean {
    this.room(s.length);
    const buf = this.buf;
    let at = this.at;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (json ? !jsonPlain(c) : !printable(c)) return false;
      buf[at++] = c;
    }
    this.at = at;
    return true;
  }

  byte(c: number): void {
    this.room(1);
    this.buf[this.at++] = c;
  }

  /** Bytes of `src` from start to end (short runs copied here: cheaper than a native call). */
  bytes(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    this.room(n);
    if (n > 64) {
      this.buf.set(src.subarray(start, end), this.at);
      this.at += n;
      return;
    }
    const buf = this.buf;
    let at = this.at;
    for (let i = start; i < end; i++) buf[at++] = src[i];
    this.at = at;
  }

  /** All of `src`. */
  all(src: Uint8Array): void {
    this.bytes(src, 0, src.length);
  }

  /** A safe integer in decimal. */
  int(n: number): void {
    this.room(17);
    if (n < 0) {
      this.buf[this.at++] = MINUS;
      n = -n;
    }
    this.at += digitCount(n);
    putDigits(this.buf, this.at, n);
  }

  /** A bigint in decimal. */
  bigint(v: bigint): void {
    const n = Number(v);
    if (Number.isSafeInteger(n)) this.int(n);
    else this.text(v.toString());
  }

  /** An unsigned 32-bit number as 8 hex digits. */
  hex32(n: number): void {
    this.room(8);
    const buf = this.buf;
    const at = this.at;
    buf[at] = HEX[n >>> 28];
    buf[at + 1] = HEX[(n >>> 24) & 15];
    buf[at + 2] = HEX[(n >>> 20) & 15];
    buf[at + 3] = HEX[(n >>> 16) & 15];
    buf[at + 4] = HEX[(n >>> 12) & 15];
    buf[at + 5] = HEX[(n >>> 8) & 15];
    buf[at + 6] = HEX[(n >>> 4) & 15];
    buf[at + 7] = HEX[n & 15];
    this.at = at + 8;
  }

  /** The IEEE 754 bits of a double, big-endian, as 16 hex digits. */
  floatHex(n: number): void {
    F64.setFloat64(0, n);
    this.hex32(F64.getUint32(0));
    this.hex32(F64.getUint32(4));
  }

  /** v + 2^63 as 16 hex digits, so that byte order is numeric order. */
  hex64(v: bigint): void {
    const n = Number(v);
    if (Number.isSafeInteger(n)) {
      // every timestamp in use: the two 32-bit halves without BigInt arithmetic
      const hi = Math.floor(n / 4294967296);
      this.hex64Words(n - hi * 4294967296, hi);
      return;
    }
    F64.setBigUint64(0, BigInt.asUintN(64, v + OFFSET));
    this.hex32(F64.getUint32(0));
    this.hex32(F64.getUint32(4));
  }

  /** hex64 of the 64-bit two's complement value with these 32-bit halves (lo unsigned, hi signed or unsigned). */
  hex64Words(lo: number, hi: number): void {
    this.hex32((hi ^ 0x80000000) >>> 0);
    this.hex32(lo);
  }

  /** What was written, as a string. */
  toString(): string {
    return this.buf.toString('latin1', 0, this.at);
  }
}

/** Decimal digits of a non-negative integer. */
export function digitCount(n: number): number {
  let digits = 0;
  for (; n >= 1e9; n = Math.floor(n / 1e9)) digits += 9;
  return digits + (n < 10 ? 1 : n < 100 ? 2 : n < 1e3 ? 3 : n < 1e4 ? 4 : n < 1e5 ? 5 : n < 1e6 ? 6 : n < 1e7 ? 7 : n < 1e8 ? 8 : 9);
}

/** Writes a non-negative integer's digits into `buf` so that they end just before `end` (32-bit arithmetic below 2^31). */
export function putDigits(buf: Uint8Array, end: number, n: number): void {
  let p = end;
  for (; n >= 0x80000000; p--) {
    const q = Math.floor(n / 10);
    buf[p - 1] = ZERO + (n - q * 10);
    n = q;
  }
  let m = n | 0;
  do {
    const q = (m / 10) | 0;
    buf[--p] = ZERO + (m - q * 10);
    m = q;
  } while (m > 0);
}

const OFFSET = 1n << 63n;
const F64 = new DataView(new ArrayBuffer(8));
const HEX = Buffer.from('0123456789abcdef', 'latin1');
const ZERO = 48;
const MINUS = 45;

/** JSON's punctuation, as the stored rows and states write it. */
export const QUOTE = 34;
export const BACKSLASH = 92;
export const OPEN = 91;
export const COMMA = 44;
export const CLOSE = 93;

/** A character code of printable ASCII. */
export function printable(c: number): boolean {
  return c >= 0x20 && c <= 0x7e;
}

/** A character code a JSON string holds as itself: printable ASCII, not a quote or a backslash. */
export function jsonPlain(c: number): boolean {
  return printable(c) && c !== QUOTE && c !== BACKSLASH;
}

/**
 * A character of a JSON text of strings that is not jsonPlain, quotes aside (they are the text's
 * structure): the same rule as jsonPlain, for a whole text at once.
 */
export const NOT_JSON_PLAIN_TEXT = /[^ -~]|\\/;
