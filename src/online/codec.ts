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

type Encode = (v: unknown) => unknown;
type Decode = (v: unknown) => Value;

function encoderFor(type: DataType, what: string): Encode {
  switch (type.type) {
    case 'int64':
      return (v) => (typeof v === 'bigint' && v >= INT64_MIN && v <= INT64_MAX ? v.toString() : v == null ? null : (coerceValue(type, v, what) as bigint).toString());
    case 'float64':
      return (v) => {
        const n = typeof v === 'number' ? v : (coerceValue(type, v, what) as number | null);
        return n === null ? null : floatHex(n);
      };
    case 'timestamp':
      return (v) => (v instanceof Timestamp ? v.micros.toString() : v == null ? null : (coerceValue(type, v, what) as Timestamp).micros.toString());
    case 'boolean':
    case 'string':
      return (v) => (typeof v === (type.type === 'string' ? 'string' : 'boolean') ? v : coerceValue(type, v, what));
    case 'array': {
      const inner = encoderFor(type.elementType ?? { type: 'string' }, `${what}[]`);
      return (v) => {
        if (v == null) return null;
        if (!Array.isArray(v)) throw new ValueTypeError(`${what}: expected an array, got ${describe(v)}`);
        return v.map(inner);
      };
    }
  }
}

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
 * encoding (redis-batch.ts).
 */
function asciiJson(json: string): string {
  return NON_ASCII.test(json) ? json.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : json;
}

/** A non-null value straight to its JSON text (the hot path of sync: no intermediate array). */
type ToText = (v: unknown) => string;

function textEncoderFor(type: DataType, what: string): ToText {
  switch (type.type) {
    case 'int64':
      return (v) => `"${typeof v === 'bigint' && v >= INT64_MIN && v <= INT64_MAX ? v : (coerceValue(type, v, what) as bigint)}"`;
    case 'float64':
      return (v) => `"${floatHex(typeof v === 'number' ? v : (coerceValue(type, v, what) as number))}"`;
    case 'boolean':
      return (v) => ((typeof v === 'boolean' ? v : coerceValue(type, v, what)) ? 'true' : 'false');
    case 'string':
      return (v) => asciiJson(JSON.stringify(typeof v === 'string' ? v : coerceValue(type, v, what)));
    case 'timestamp':
      return (v) => `"${(v instanceof Timestamp ? v : (coerceValue(type, v, what) as Timestamp)).micros}"`;
    case 'array': {
      const encode = encoderFor(type, what);
      return (v) => asciiJson(JSON.stringify(encode(v)));
    }
  }
}

interface Compiled {
  fingerprint: string;
  names: string[];
  texts: ToText[];
  decoders: Decode[];
}

const compiled = new WeakMap<ViewLayout, Compiled>();

function compile(layout: ViewLayout): Compiled {
  let c = compiled.get(layout);
  if (!c) {
    c = {
      fingerprint: layoutFingerprint(layout),
      names: layout.features.map((f) => f.name),
      texts: layout.features.map((f) => textEncoderFor(f.type, `feature '${f.name}' of view '${layout.view}'`)),
      decoders: layout.features.map((f) => decoderFor(f.type)),
    };
    compiled.set(layout, c);
  }
  return c;
}

/** 8 hex characters naming the features and their types: what decoding a stored row depends on. */
export function layoutFingerprint(layout: Pick<ViewLayout, 'features'>): string {
  return createHash('sha1').update(JSON.stringify(layout.features.map((f) => [f.name, typeName(f.type)]))).digest('hex').slice(0, 8);
}

/** Layouts equal in everything sync depends on (keys, features, types, TTL). */
export function sameLayout(a: ViewLayout, b: ViewLayout): boolean {
  const shape = (l: ViewLayout) => JSON.stringify([l.view, l.joinKeys.map((k) => [k.name, typeName(k.type)]), l.features.map((f) => [f.name, typeName(f.type)]), l.ttlSeconds ?? null]);
  return shape(a) === shape(b);
}

const NO_CREATED_HEX = '0000000000000000';
const HEX2 = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const F64 = new DataView(new ArrayBuffer(8));

/** The IEEE 754 bits of a double, big-endian, as 16 hex digits. */
export function floatHex(n: number): string {
  F64.setFloat64(0, n);
  return HEX2[F64.getUint8(0)] + HEX2[F64.getUint8(1)] + HEX2[F64.getUint8(2)] + HEX2[F64.getUint8(3)] + HEX2[F64.getUint8(4)] + HEX2[F64.getUint8(5)] + HEX2[F64.getUint8(6)] + HEX2[F64.getUint8(7)];
}

export function hexFloat(hex: string): number {
  F64.setUint32(0, parseInt(hex.slice(0, 8), 16));
  F64.setUint32(4, parseInt(hex.slice(8, 16), 16));
  return F64.getFloat64(0);
}

/** v + 2^63 as 16 hex digits, so string order is numeric order. */
export function hex64(v: bigint): string {
  if (v === NO_CREATED) return NO_CREATED_HEX;
  // Fast path for 0 <= v < 2^52 (every timestamp from 1970 to 2112 in microseconds): '8', then
  // 15 digits from two 32-bit halves, without BigInt arithmetic or a radix conversion.
  if (v >= 0n && v < 4503599627370496n) {
    const n = Number(v);
    const hi = Math.floor(n / 4294967296);
    const lo = n >>> 0;
    return `8${(hi >>> 24).toString(16)}${HEX2[(hi >>> 16) & 255]}${HEX2[(hi >>> 8) & 255]}${HEX2[hi & 255]}${HEX2[lo >>> 24]}${HEX2[(lo >>> 16) & 255]}${HEX2[(lo >>> 8) & 255]}${HEX2[lo & 255]}`;
  }
  return (v + OFFSET).toString(16).padStart(16, '0');
}

function fromHex64(text: string): bigint {
  return BigInt(`0x${text}`) - OFFSET;
}

/** 32 characters whose string order is the (ts, created) order. */
export function sortKey(ts: Timestamp, created?: Timestamp): string {
  return hex64(ts.micros) + hex64(created ? created.micros : NO_CREATED);
}

/** The features of a row as stored: fingerprint + JSON array in layout order. */
export function encodeFeatures(layout: ViewLayout, values: Record<string, unknown>): string {
  const c = compile(layout);
  let out = `${c.fingerprint}[`;
  for (let i = 0; i < c.names.length; i++) {
    const v = values[c.names[i]];
    if (i > 0) out += ',';
    out += v === undefined || v === null ? 'null' : c.texts[i](v);
  }
  return `${out}]`;
}

export function decodeFeatures(layout: ViewLayout, text: string): Record<string, Value> {
  const c = compile(layout);
  if (text.slice(0, 8) !== c.fingerprint) {
    throw new LayoutMismatchError(
      `view '${layout.view}': a stored row was written with other features than the layout being read (fingerprint ${text.slice(0, 8)}, expected ${c.fingerprint}); reload the layouts with getLayouts(), or re-run fsql sync.`,
    );
  }
  const arr = JSON.parse(text.slice(8)) as unknown[];
  const out: Record<string, Value> = {};
  for (let i = 0; i < c.names.length; i++) out[c.names[i]] = c.decoders[i](arr[i] ?? null);
  return out;
}

/** The whole stored value of a row (Redis): sort key, then features. */
export function encodeStored(layout: ViewLayout, row: OnlineRow): string {
  return sortKey(row.ts, row.created) + encodeFeatures(layout, row.values);
}

export function decodeStored(layout: ViewLayout, text: string): StoredRow {
  const ts = new Timestamp(fromHex64(text.slice(0, 16)));
  const c = fromHex64(text.slice(16, 32));
  return { ts, created: c === NO_CREATED ? undefined : new Timestamp(c), values: decodeFeatures(layout, text.slice(32)) };
}

/** When a row stops being valid: ts + ttl (inclusive), in microseconds; undefined for no TTL. */
export function expiresAtMicros(layout: ViewLayout, ts: Timestamp): bigint | undefined {
  return layout.ttlSeconds === undefined ? undefined : ts.micros + BigInt(Math.round(layout.ttlSeconds * 1e6));
}

/** A value as JSON shows it (SPEC section 6): int64 as a string, NaN and infinities as strings, timestamps ISO 8601 UTC. */
export function toJsonValue(v: Value): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (v instanceof Timestamp) return v.toISOString();
  if (Array.isArray(v)) return v.map(toJsonValue);
  return v;
}
