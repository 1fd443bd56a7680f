/**
 * Input values as JSON text, where appending or size counts more than decoding speed: a pushed-event
 * log (pushed.ts: appended to by concatenation) and C's distinct values in a state (state.ts: read
 * only by a push's fold, and half the bytes of state-bytes.ts slots for short strings).
 * int64 values are JSON numbers when exact as doubles, else decimal strings; non-finite floats are
 * the strings "NaN", "Infinity", "-Infinity"; strings are ASCII with \u escapes (so no newline).
 */
import type { AsciiWriter } from '../ascii-writer.js';
import { QUOTE } from '../ascii-writer.js';
import { FALSE, NULL, TRUE, writeJsonString } from '../codec.js';
import type { ScalarType } from '../../values.js';
import type { AggInput } from './state.js';

/** How a value of an input column of this type is read back from its JSON. */
export type ValueFromJson = (j: unknown) => AggInput | null;

export function fromJson(type: ScalarType): ValueFromJson {
  switch (type) {
    case 'int64':
    case 'timestamp':
      return (j) => (j === null ? null : BigInt(j as number | string));
    case 'float64':
      return (j) => (j === null ? null : typeof j === 'string' ? Number(j) : (j as number));
    default:
      return (j) => j as AggInput | null;
  }
}

/** ASCII text in quotes (a number JSON cannot hold as one). */
function writeQuoted(w: AsciiWriter, text: string): void {
  w.byte(QUOTE);
  w.text(text);
  w.byte(QUOTE);
}

export function writeJsonValue(w: AsciiWriter, v: AggInput | null): void {
  if (v === null) return w.all(NULL);
  switch (typeof v) {
    case 'number':
      if (Number.isSafeInteger(v)) w.int(v);
      else if (Number.isFinite(v)) w.text(String(v));
      else writeQuoted(w, String(v));
      return;
    case 'bigint':
      if (Number.isSafeInteger(Number(v))) w.int(Number(v));
      else writeQuoted(w, String(v));
      return;
    case 'string':
      return writeJsonString(w, v);
    default:
      w.all(v ? TRUE : FALSE);
  }
}
