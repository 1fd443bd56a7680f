/**
 * A stored row's features as the JSON text of SPEC section 6, read straight from the stored text
 * (online/codec.ts) instead of decoding typed values and formatting them again. The stored array is our
 * own writing, so a small scanner suffices: elements are null, true, false, strings or arrays;
 * int64 (a quoted decimal), booleans and strings are already the answer's JSON; float64 (16 quoted
 * hex digits of its bits) and timestamps (quoted decimal microseconds) are converted. The text is
 * exactly what encode.ts toJsonValue + JSON.stringify give for the typed value (test/feature-json.test.ts).
 */
import { BACKSLASH, CLOSE, COMMA, OPEN, QUOTE } from '../online/ascii-writer.js';
import { hexFloat } from '../online/codec.js';
import type { StoredRow, ViewLayout } from '../online/store.js';
import { Timestamp, type DataType } from '../values.js';

/**
 * Reads the element of `text` starting at `at` (not null: callers check) and returns its JSON
 * text, with `end` set to where the element ends. Knowing the type, the reader finds the end
 * itself (a float64 is 18 characters, an int64 ends at its next quote) instead of a generic scan.
 */
type Read = (text: string, at: number) => string;

/** Where the element a Read read ends (one module variable rather than a pair per element). */
let end = 0;

/** 'n', 't', 'f': the first characters of null, true and false */
const N = 110;
const T = 116;
const F = 102;

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

/** Where the element starting at `at` ends, whatever its type (for the features a service skips). */
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
    case T:
      return at + 4;
    case F:
      return at + 5;
    default:
      throw corrupt(text, at);
  }
}

/** Where a quoted decimal (int64, timestamp: no escapes) starting at `at` ends. */
function decimalEnd(text: string, at: number): number {
  const q = text.indexOf('"', at + 1);
  if (text.charCodeAt(at) !== QUOTE || q < 0) throw corrupt(text, at);
  return q + 1;
}

const int64: Read = (text, at) => text.slice(at, (end = decimalEnd(text, at)));

const boolean: Read = (text, at) => {
  const c = text.charCodeAt(at);
  if (c === T) {
    end = at + 4;
    return 'true';
  }
  if (c !== F) throw corrupt(text, at);
  end = at + 5;
  return 'false';
};

/** Stored strings escape non-ASCII characters (\uXXXX); the typed path writes them as they are. */
const string: Read = (text, at) => {
  const s = text.slice(at, (end = stringEnd(text, at)));
  return s.includes('\\u') ? JSON.stringify(JSON.parse(s)) : s;
};

const float64: Read = (text, at) => {
  if (text.charCodeAt(at) !== QUOTE || text.charCodeAt(at + 17) !== QUOTE) throw corrupt(text, at);
  end = at + 18;
  const v = hexFloat(text, at + 1);
  return Number.isFinite(v) ? cents(v) ?? String(v) : `"${v}"`;
};

/** The text after the decimal point of a number of cents c (0 <= c < 100): '', '.5', '.05', '.25'. */
const FRACTIONS = Array.from({ length: 100 }, (_, c) => (c === 0 ? '' : c % 10 === 0 ? `.${c / 10}` : `.${c < 10 ? '0' : ''}${c}`));

/**
 * String(v) for a value with at most two decimals (amounts), written from integers: several times
 * cheaper than V8's shortest rendering of a double. Exact: n / 100 is correctly rounded, so when
 * it equals v, v is the double nearest the decimal n/100, which has at most 15 significant digits
 * and so is the shortest decimal that reads back as v. undefined for other values.
 */
function cents(v: number): string | undefined {
  const n = Math.round(v * 100);
  if (n / 100 !== v || n >= 1e15 || n <= -1e15) return undefined;
  if (n === 0) return '0';
  const a = n < 0 ? -n : n;
  const text = String((a - (a % 100)) / 100) + FRACTIONS[a % 100];
  return n < 0 ? `-${text}` : text;
}

const timestamp: Read = (text, at) => {
  end = decimalEnd(text, at);
  return `"${new Timestamp(BigInt(text.slice(at + 1, end - 1))).toISOString()}"`;
};

function arrayOf(element: Read): Read {
  return (text, at) => {
    if (text.charCodeAt(at) !== OPEN) throw corrupt(text, at);
    let out = '[';
    let i = at + 1;
    while (text.charCodeAt(i) !== CLOSE) {
      if (i >= text.length) throw corrupt(text, at);
      if (text.charCodeAt(i) === N) {
        out += 'null';
        i += 4;
      } else {
        out += element(text, i);
        i = end;
      }
      if (text.charCodeAt(i) === COMMA) {
        out += ',';
        i++;
      }
    }
    end = i + 1;
    return out + ']';
  };
}

function readerFor(type: DataType): Read {
  switch (type.type) {
    case 'int64':
      return int64;
    case 'boolean':
      return boolean;
    case 'string':
      return string;
    case 'float64':
      return float64;
    case 'timestamp':
      return timestamp;
    case 'array':
      return arrayOf(readerFor(type.elementType ?? { type: 'string' }));
  }
}

const compiled = new WeakMap<ViewLayout, Read[]>();

/**
 * Writes the JSON text of the row's features into `out`: the layout's feature i goes to
 * out[slots[i]], and features whose slot is negative are skipped (not converted).
 */
export function featuresJson(layout: ViewLayout, row: StoredRow, slots: ArrayLike<number>, out: string[]): void {
  let readers = compiled.get(layout);
  if (!readers) {
    readers = layout.features.map((f) => readerFor(f.type));
    compiled.set(layout, readers);
  }
  const { text } = row;
  // elements start after the 8-character layout fingerprint and the opening bracket
  let at = row.at + 9;
  for (let i = 0; i < readers.length; i++) {
    const slot = slots[i];
    if (text.charCodeAt(at) === N) {
      if (slot >= 0) out[slot] = 'null';
      at += 5;
    } else if (slot >= 0) {
      out[slot] = readers[i](text, at);
      at = end + 1;
    } else {
      at = elementEnd(text, at) + 1;
    }
  }
}
