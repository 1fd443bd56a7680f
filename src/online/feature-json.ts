/**
 * A stored row's features as the JSON text of SPEC section 6, read straight from the stored text
 * (codec.ts) instead of decoding typed values and formatting them again. The stored array is our
 * own writing, so a small scanner suffices: elements are null, true, false, strings or arrays;
 * int64 (a quoted decimal), booleans and strings are already the answer's JSON; float64 (16 quoted
 * hex digits of its bits) and timestamps (quoted decimal microseconds) are converted. The text is
 * exactly what toJsonValue + JSON.stringify give for the typed value (test/feature-json.test.ts).
 */
import { Timestamp, type DataType } from '../values.js';
import { CLOSE, COMMA, hexFloat, OPEN, QUOTE } from './codec.js';
import type { StoredRow, ViewLayout } from './store.js';

/** The JSON text of the element of `text` from `start` to `end` (not null: callers check). */
type ToJson = (text: string, start: number, end: number) => string;

const BACKSLASH = 92;
/** 'n', the first character of null */
const N = 110;

function corrupt(text: string, at: number): Error {
  return new Error(`a stored row is not in the online store's format near ${JSON.stringify(text.slice(at, at + 40))}`);
}

/** Where the string starting at `at` (its opening quote) ends: after its closing quote. */
function stringEnd(text: string, at: number): number {
  let q = text.indexOf('"', at + 1);
  for (;;) {
    if (q < 0) throw corrupt(text, at);
    let backslashes = 0;
    while (text.charCodeAt(q - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return q + 1;
    q = text.indexOf('"', q + 1);
  }
}

/** Where the element starting at `at` ends. */
function elementEnd(text: string, at: number): number {
  switch (text.charCodeAt(at)) {
    case QUOTE:
      return stringEnd(text, at);
    case OPEN: {
      let depth = 0;
      for (let i = at; i < text.length; ) {
        const c = text.charCodeAt(i);
        if (c === QUOTE) {
          i = stringEnd(text, i);
          continue;
        }
        if (c === OPEN) depth++;
        else if (c === CLOSE && --depth === 0) return i + 1;
        i++;
      }
      throw corrupt(text, at);
    }
    case N:
    case 116: // true
      return at + 4;
    case 102: // false
      return at + 5;
    default:
      throw corrupt(text, at);
  }
}

const asStored: ToJson = (text, start, end) => text.slice(start, end);

/** Stored strings escape non-ASCII characters (\uXXXX); the typed path writes them as they are. */
const storedString: ToJson = (text, start, end) => {
  const s = text.slice(start, end);
  return s.includes('\\u') ? JSON.stringify(JSON.parse(s)) : s;
};

const float64: ToJson = (text, start) => {
  const v = hexFloat(text, start + 1);
  return Number.isFinite(v) ? cents(v) ?? String(v) : `"${v}"`;
};

/**
 * String(v) for a value with at most two decimals (amounts), written from integers: several times
 * cheaper than V8's shortest rendering of a double. Exact: n / 100 is correctly rounded, so when
 * it equals v, v is the double nearest the decimal n/100, which has at most 15 significant digits
 * and so is the shortest decimal that reads back as v. undefined for other values.
 */
function cents(v: number): string | undefined {
  const n = Math.round(v * 100);
  if (n / 100 !== v || Math.abs(n) >= 1e15) return undefined;
  if (n === 0) return '0';
  const a = Math.abs(n);
  const whole = `${n < 0 ? '-' : ''}${Math.floor(a / 100)}`;
  const c = a % 100;
  if (c === 0) return whole;
  return c % 10 === 0 ? `${whole}.${c / 10}` : `${whole}.${c < 10 ? '0' : ''}${c}`;
}

const timestamp: ToJson = (text, start, end) => `"${new Timestamp(BigInt(text.slice(start + 1, end - 1))).toISOString()}"`;

function arrayOf(element: ToJson): ToJson {
  return (text, start, end) => {
    let out = '[';
    let at = start + 1;
    while (at < end - 1) {
      const e = elementEnd(text, at);
      out += text.charCodeAt(at) === N ? 'null' : element(text, at, e);
      at = e;
      if (text.charCodeAt(at) === COMMA) {
        out += ',';
        at++;
      }
    }
    return out + ']';
  };
}

function toJsonFor(type: DataType): ToJson {
  switch (type.type) {
    case 'int64':
    case 'boolean':
      return asStored;
    case 'string':
      return storedString;
    case 'float64':
      return float64;
    case 'timestamp':
      return timestamp;
    case 'array':
      return arrayOf(toJsonFor(type.elementType ?? { type: 'string' }));
  }
}

const compiled = new WeakMap<ViewLayout, ToJson[]>();

/** The JSON text of the row's features at `indexes` (positions in the layout's features), in that order. */
export function featuresJson(layout: ViewLayout, row: StoredRow, indexes: readonly number[]): string[] {
  let converters = compiled.get(layout);
  if (!converters) {
    converters = layout.features.map((f) => toJsonFor(f.type));
    compiled.set(layout, converters);
  }
  const { text } = row;
  // where each element starts: after the 8-character layout fingerprint and the opening bracket
  const starts = new Array<number>(converters.length + 1);
  let at = row.at + 9;
  for (let i = 0; i < converters.length; i++) {
    starts[i] = at;
    at = elementEnd(text, at) + 1;
  }
  starts[converters.length] = at;
  return indexes.map((i) => {
    const start = starts[i];
    return text.charCodeAt(start) === N ? 'null' : converters[i](text, start, starts[i + 1] - 1);
  });
}
