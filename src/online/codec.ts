/**
 * Typed values in the online store. A stored row is
 *   <ts: 16 hex><created: 16 hex><layout fingerprint: 8 hex><features: JSON array>
 * The first 32 characters order rows by (ts, created) as plain strings, which is what the Redis
 * Lua script compares; the whole text is ASCII (non-ASCII characters are JSON \u escapes); SQLite keeps ts and created in integer columns and the rest as text.
 * In the JSON array, int64 and timestamps (UTC microseconds) are decimal strings so they stay
 * exact, and float64 is the 16 hex digits of its IEEE 754 bits: exact to the bit (NaN, ±Infinity
 * and -0 included) and several times faster to write than a decimal rendering.
 */
import { createHash } from 'node:crypto';
import { FsqlError, OnlineStoreError } from '../errors.js';
import { Timestamp, typeName, type DataType, type Value } from '../values.js';
import { AsciiWriter, CLOSE, COMMA, OPEN, QUOTE } from './ascii-writer.js';
import type { OnlineRow, StoredRow, ViewLayout } from './store.js';

/** A value that does not fit the type its view declares (a bad push, an unexpected warehouse type). */
export class ValueTypeError extends FsqlError {}

/** A stored row was written with other features than the layout the reader holds: reload layouts. */
export class LayoutMismatchError extends OnlineStoreError {}

const OFFSET = 1n << 63n;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
/** created_timestamp of rows whose view has none: sorts below every real value. */
export const NO_CREATED = INT64_MIN;

export function coerceValue(type: DataType, v: unknown, what: string): Value {
  if (v === null || v === undefined) return null;
  switch (type.type) {
    case 'int64': {
      let b: bigint | undefined;
      if (typeof v === 'bigint') b = v;
      else if (typeof v === 'number' && Number.isInteger(v)) b = BigInt(v);
      else if (typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v)) b = BigInt(v.trim());
      if (b === undefined || b < INT64_MIN || b > INT64_MAX) throw new ValueTypeError(`${what}: expected an int64, got ${describe(v)}`);
      return b;
    }
    case 'float64':
      if (typeof v === 'number') return v;
      if (typeof v === 'bigint') return Number(v);
      if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
      if (v === 'NaN') return NaN;
      throw new ValueTypeError(`${what}: expected a float64, got ${describe(v)}`);
    case 'boolean':
      if (typeof v === 'boolean') return v;
      throw new ValueTypeError(`${what}: expected a boolean, got ${describe(v)}`);
    case 'string':
      if (typeof v === 'string') return v;
      if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
      if (v instanceof Timestamp) return v.toISOString();
      throw new ValueTypeError(`${what}: expected a string, got ${describe(v)}`);
    case 'timestamp': {
      if (v instanceof Timestamp) return v;
      if (v instanceof Date && !Number.isNaN(v.getTime())) return Timestamp.fromDate(v);
      const ts = typeof v === 'string' ? Timestamp.parse(v) : undefined;
      if (ts) return ts;
      throw new ValueTypeError(`${what}: expected a timestamp (ISO 8601), got ${describe(v)}`);
    }
    case 'array': {
      if (!Array.isArray(v)) throw new ValueTypeError(`${what}: expected an array, got ${describe(v)}`);
      const element = type.elementType ?? { type: 'string' };
      return v.map((x, i) => coerceValue(element, x, `${what}[${i}]`));
    }
  }
}

function describe(v: unknown): string {
  if (typeof v === 'string') return `'${v.length > 40 ? `${v.slice(0, 40)}…` : v}'`;
  if (typeof v === 'bigint') return `${v}`;
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Timestamp) return `timestamp ${v.toISOString()}`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}

type Decode = (v: unknown) => Value;

function decoderFor(type: DataType): Decode {
  switch (type.type) {
    case 'int64':
      return (v) => (v === null ? null : BigInt(v as string));
    case 'float64':
      return (v) => (v === null ? null : hexFloat(v as string));
    case 'timestamp':
      return (v) => (v === null ? null : new Timestamp(BigInt(v as string)));
    case 'boolean':
    case 'string':
      return (v) => v as Value;
    case 'array': {
      const inner = decoderFor(type.elementType ?? { type: 'string' });
      return (v) => (v === null ? null : (v as unknown[]).map(inner));
    }
  }
}

const NON_ASCII = /[^\x00-\x7f]/;

/**
 * JSON text with every non-ASCII character as a \uXXXX escape (JSON.parse reads it back the same),
 * so a stored row is pure ASCII: its length is its byte length and it can be sent without UTF-8
 * encoding (redis/batch.ts).
 */
export function asciiJson(json: string): string {
  return NON_ASCII.test(json) ? json.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : json;
}

/** A string's JSON text in ASCII (JSON.stringify's, non-ASCII as \u escapes): the string in quotes when it holds nothing to escape. */
export function writeJsonString(w: AsciiWriter, v: string): void {
  w.byte(QUOTE);
  if (w.plain(v, true)) return w.byte(QUOTE);
  w.at--;
  w.text(asciiJson(JSON.stringify(v)));
}

/** Writes a non-null value's JSON text (the hot path of sync: no intermediate string or array). */
type WriteValue = (w: AsciiWriter, v: unknown) => void;

export const TRUE = Buffer.from('true', 'latin1');
export const FALSE = Buffer.from('false', 'latin1');
export const NULL = Buffer.from('null', 'latin1');

export function valueWriterFor(type: DataType, what: string): WriteValue {
  switch (type.type) {
    case 'int64':
      return (w, v) => {
        w.byte(QUOTE);
        w.bigint(typeof v === 'bigint' && v >= INT64_MIN && v <= INT64_MAX ? v : (coerceValue(type, v, what) as bigint));
        w.byte(QUOTE);
      };
    case 'float64':
      return (w, v) => {
        w.byte(QUOTE);
        w.floatHex(typeof v === 'number' ? v : (coerceValue(type, v, what) as number));
        w.byte(QUOTE);
      };
    case 'boolean':
      return (w, v) => w.all((typeof v === 'boolean' ? v : coerceValue(type, v, what)) ? TRUE : FALSE);
    case 'string':
      return (w, v) => writeJsonString(w, typeof v === 'string' ? v : (coerceValue(type, v, what) as string));
    case 'timestamp':
      return (w, v) => {
        w.byte(QUOTE);
        w.bigint((v instanceof Timestamp ? v : (coerceValue(type, v, what) as Timestamp)).micros);
        w.byte(QUOTE);
      };
    case 'array': {
      const element = valueWriterFor(type.elementType ?? { type: 'string' }, `${what}[]`);
      return (w, v) => {
        if (!Array.isArray(v)) throw new ValueTypeError(`${what}: expected an array, got ${describe(v)}`);
        w.byte(OPEN);
        for (let i = 0; i < v.length; i++) {
          if (i > 0) w.byte(COMMA);
          if (v[i] == null) w.all(NULL);
          else element(w, v[i]);
        }
        w.byte(CLOSE);
      };
    }
  }
}

interface Compiled {
  fingerprint: string;
  /** the fingerprint and the opening bracket, as bytes */
  head: Buffer;
  names: string[];
  writers: WriteValue[];
  decoders: Decode[];
}

const compiled = new WeakMap<ViewLayout, Compiled>();

/** The stored row's fingerprint and opening bracket, as bytes: what the features follow. */
export function featuresHead(layout: ViewLayout): Buffer {
  return compile(layout).head;
}

/** The layout's fingerprint (layoutFingerprint), computed once per layout. */
export function fingerprintOf(layout: ViewLayout): string {
  return compile(layout).fingerprint;
}

function compile(layout: ViewLayout): Compiled {
  let c = compiled.get(layout);
  if (!c) {
    const fingerprint = layoutFingerprint(layout);
    c = {
      fingerprint,
      head: Buffer.from(`${fingerprint}[`, 'latin1'),
      names: layout.features.map((f) => f.name),
      writers: layout.features.map((f) => valueWriterFor(f.type, `feature '${f.name}' of view '${layout.view}'`)),
      decoders: layout.features.map((f) => decoderFor(f.type)),
    };
    compiled.set(layout, c);
  }
  return c;
}

/**
 * 8 hex characters naming the features and their types, and for an aggregate view the encoding of
 * its states: what decoding a stored row depends on.
 */
function layoutFingerprint(layout: ViewLayout): string {
  const features = layout.features.map((f) => [f.name, typeName(f.type)]);
  return createHash('sha1').update(JSON.stringify(layout.aggregate ? [...features, STATE_ENCODING] : features)).digest('hex').slice(0, 8);
}

/** The one value of an aggregate view's OnlineRow: the entity's encoded state. */
export const AGGREGATE_STATE = '__fsql_state';
/**
 * The encoding of aggregate states (online/aggregate/state.ts), in their layouts' fingerprints: a
 * state written in another encoding is refused as written with another layout, never misread.
 */
export const STATE_ENCODING = 'state-bytes-1';

/** Layouts equal in everything sync depends on (keys, features, types, TTL, aggregate definitions). */
export function sameLayout(a: ViewLayout, b: ViewLayout): boolean {
  const shape = (l: ViewLayout) => JSON.stringify([l.view, l.joinKeys.map((k) => [k.name, typeName(k.type)]), l.features.map((f) => [f.name, typeName(f.type)]), l.ttlSeconds ?? null, l.aggregate ?? null]);
  return shape(a) === shape(b);
}

/** A scratch writer for the string forms below (nothing they write calls back into one). */
const scratch = new AsciiWriter();

function written(write: (w: AsciiWriter) => void): string {
  scratch.at = 0;
  write(scratch);
  return scratch.toString();
}

/** Each character code's hex digit value (lower case, as written), -1 for any other character. */
const HEX_DIGIT = new Int8Array(256).fill(-1);
for (let d = 0; d < 16; d++) HEX_DIGIT['0123456789abcdef'.charCodeAt(d)] = d;

/** 8 hex digits of `text` from `at` as an unsigned 32-bit number; NaN when one is not a hex digit. */
function hex32(text: string, at: number): number {
  let n = 0;
  let bad = 0;
  for (let i = at; i < at + 8; i++) {
    const d = HEX_DIGIT[text.charCodeAt(i) & 255];
    bad |= d;
    n = (n << 4) | d;
  }
  return bad < 0 ? NaN : n >>> 0;
}

/** A float64 and its two 32-bit halves; HIGH is the index of the half holding sign and exponent. */
const F64 = new Float64Array(1);
const F64_WORDS = new Uint32Array(F64.buffer);
F64[0] = 1;
const HIGH = F64_WORDS[1] === 0x3ff00000 ? 1 : 0;

/** The float64 whose IEEE 754 bits are the 16 hex digits of `hex` from `at`. */
export function hexFloat(hex: string, at = 0): number {
  F64_WORDS[HIGH] = hex32(hex, at);
  F64_WORDS[1 - HIGH] = hex32(hex, at + 8);
  return F64[0];
}

/** v + 2^63 as 16 hex digits, so string order is numeric order. */
export function hex64(v: bigint): string {
  return written((w) => w.hex64(v));
}

/** The inverse of hex64 for the 16 characters of `text` from `at`; without BigInt parsing below 2^53 in magnitude (every timestamp in use). */
function fromHex64(text: string, at: number): bigint {
  const hi = hex32(text, at) - 0x80000000;
  if (hi >= -0x200000 && hi < 0x200000) return BigInt(hi * 4294967296 + hex32(text, at + 8));
  return BigInt(`0x${text.slice(at, at + 16)}`) - OFFSET;
}

/** 32 characters whose string order is the (ts, created) order. */
export function sortKey(ts: Timestamp, created?: Timestamp): string {
  return written((w) => writeSortKey(w, ts, created));
}

function writeSortKey(w: AsciiWriter, ts: Timestamp, created: Timestamp | undefined): void {
  w.hex64(ts.micros);
  if (created) w.hex64(created.micros);
  else w.all(NO_CREATED_HEX);
}

/** hex64(NO_CREATED) */
const NO_CREATED_TEXT = '0000000000000000';
export const NO_CREATED_HEX = Buffer.from(NO_CREATED_TEXT, 'latin1');

/** Writes the features of a row as stored: fingerprint + JSON array in layout order. */
export function writeFeatures(w: AsciiWriter, layout: ViewLayout, values: Record<string, unknown>): void {
  const c = compile(layout);
  if (layout.aggregate) {
    // an aggregate view stores each entity's window state (online/aggregate/state.ts encodeState) in place of the features
    const state = values[AGGREGATE_STATE];
    if (typeof state !== 'string') throw new ValueTypeError(`view '${layout.view}' is an aggregate view: a row of it is an entity's window state (fsql sync), not feature values`);
    w.text(c.fingerprint);
    w.text(state);
    return;
  }
  w.bytes(c.head, 0, c.head.length);
  for (let i = 0; i < c.names.length; i++) {
    const v = values[c.names[i]];
    if (i > 0) w.byte(COMMA);
    if (v === undefined || v === null) w.all(NULL);
    else c.writers[i](w, v);
  }
  w.byte(CLOSE);
}

export function encodeFeatures(layout: ViewLayout, values: Record<string, unknown>): string {
  return written((w) => writeFeatures(w, layout, values));
}

/** Throws LayoutMismatchError unless the features stored in `text` from `at` were written with `layout`'s features. */
function checkFingerprint(layout: ViewLayout, text: string, at: number): void {
  const c = compile(layout);
  if (!text.startsWith(c.fingerprint, at)) {
    throw new LayoutMismatchError(
      `view '${layout.view}': a stored row was written with other features than the layout being read (fingerprint ${text.slice(at, at + 8)}, expected ${c.fingerprint}); reload the layouts with getLayouts(), or re-run fsql sync.`,
    );
  }
}

/** The features stored in `text` from `at` (where encodeFeatures' text starts). */
export function decodeFeatures(layout: ViewLayout, text: string, at = 0): Record<string, Value> {
  const c = compile(layout);
  checkFingerprint(layout, text, at);
  const arr = JSON.parse(text.slice(at + 8)) as unknown[];
  const out: Record<string, Value> = {};
  for (let i = 0; i < c.names.length; i++) out[c.names[i]] = c.decoders[i](arr[i] ?? null);
  return out;
}

/** Writes the whole stored value of a row (Redis): sort key, then features. */
export function writeStored(w: AsciiWriter, layout: ViewLayout, row: OnlineRow): void {
  writeSortKey(w, row.ts, row.created);
  writeFeatures(w, layout, row.values);
}

export function encodeStored(layout: ViewLayout, row: OnlineRow): string {
  return written((w) => writeStored(w, layout, row));
}

/** EncodedRow's `created` when it is read from the sort key at the start of `text` on first use. */
const CREATED_IN_SORT_KEY = Symbol('created in the sort key');

/**
 * A row as a store returns it: its timestamps, and its features as stored (`text` from `at`),
 * decoded to typed values only when `values` is first read (the HTTP API answers from the text).
 */
export class EncodedRow implements StoredRow {
  private decoded?: Record<string, Value>;

  constructor(
    private readonly layout: ViewLayout,
    readonly ts: Timestamp,
    private createdAt: Timestamp | undefined | typeof CREATED_IN_SORT_KEY,
    readonly text: string,
    readonly at: number,
    readonly pushed?: string,
  ) {
    checkFingerprint(layout, text, at);
  }

  get created(): Timestamp | undefined {
    if (this.createdAt === CREATED_IN_SORT_KEY) {
      const c = storedCreated(this.text);
      this.createdAt = c === NO_CREATED ? undefined : new Timestamp(c);
    }
    return this.createdAt;
  }

  get values(): Record<string, Value> {
    return (this.decoded ??= decodeFeatures(this.layout, this.text, this.at));
  }
}

/** The (ts, created) microseconds a stored row's sort key holds; created is NO_CREATED for none. */
export function storedTimes(text: string): [ts: bigint, created: bigint] {
  return [fromHex64(text, 0), storedCreated(text)];
}

/** The created microseconds a stored row's sort key holds, NO_CREATED for none. */
function storedCreated(text: string): bigint {
  return text.startsWith(NO_CREATED_TEXT, 16) ? NO_CREATED : fromHex64(text, 16);
}

/** A whole stored value (Redis: sort key, then features); `created` is read only when asked for (serving does not). */
export function decodeStored(layout: ViewLayout, text: string, pushed?: string): StoredRow {
  return new EncodedRow(layout, new Timestamp(fromHex64(text, 0)), CREATED_IN_SORT_KEY, text, 32, pushed);
}

/** The oldest feature timestamp still valid at `now` (microseconds): now - ttl; undefined for no TTL. */
export function oldestValidMicros(layout: ViewLayout, now: bigint): bigint | undefined {
  return layout.ttlSeconds === undefined ? undefined : now - BigInt(Math.round(layout.ttlSeconds * 1e6));
}

/** When a row stops being valid: ts + ttl (inclusive), in microseconds; undefined for no TTL. */
export function expiresAtMicros(layout: ViewLayout, ts: bigint): bigint | undefined {
  return layout.ttlSeconds === undefined ? undefined : ts + BigInt(Math.round(layout.ttlSeconds * 1e6));
}
