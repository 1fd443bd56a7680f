/**
 * RESP, Redis's protocol, as bytes: its type markers and the writers of commands and bulk strings
 * that the connection (connection.ts) and a write's batches (batch.ts) share.
 */
import type { AsciiWriter } from '../ascii-writer.js';

export const PLUS = 0x2b;
export const MINUS = 0x2d;
export const COLON = 0x3a;
export const DOLLAR = 0x24;
export const STAR = 0x2a;
export const CR = 13;
export const LF = 10;

export function crlf(w: AsciiWriter): void {
  w.room(2);
  w.buf[w.at++] = CR;
  w.buf[w.at++] = LF;
}

/** `*<n>\r\n`: a command of n arguments follows. */
export function arrayHeader(w: AsciiWriter, n: number): void {
  w.byte(STAR);
  w.int(n);
  crlf(w);
}

/** `$<length>\r\n<text>\r\n` for ASCII text */
export function bulkText(w: AsciiWriter, text: string): void {
  w.byte(DOLLAR);
  w.int(text.length);
  crlf(w);
  w.text(text);
  crlf(w);
}

/** `$<length>\r\n<bytes>\r\n` */
export function bulkBytes(w: AsciiWriter, src: Buffer, start: number, end: number): void {
  w.byte(DOLLAR);
  w.int(end - start);
  crlf(w);
  w.bytes(src, start, end);
  crlf(w);
}

/**
 * One command: its array header, then a bulk string per argument. ASCII arguments (row keys:
 * keys.ts escapes every part; stored rows: codec.ts writes ASCII) are copied as they are, the
 * rest encoded as UTF-8; telling them apart is one length check per argument.
 */
export function writeCommand(w: AsciiWriter, args: readonly string[]): void {
  arrayHeader(w, args.length);
  for (const a of args) {
    if (Buffer.byteLength(a) === a.length) bulkText(w, a);
    else {
      const bytes = Buffer.from(a, 'utf8');
      bulkBytes(w, bytes, 0, bytes.length);
    }
  }
}
