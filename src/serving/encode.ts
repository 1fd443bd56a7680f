/**
 * JSON for the two APIs and `fsql get --json`. Tecton values are written by feature-json.ts straight from the
 * stored text (int64 as decimal strings, NaN/Infinity as strings, ISO 8601 timestamps). Feast
 * keeps int64 a JSON number, written here as an exact integer literal so no precision is lost above 2^53.
 */
import { BACKSLASH, QUOTE } from '../online/ascii-writer.js';
import { Timestamp, type DataType, type Value } from '../values.js';

function nonFinite(v: number): string {
  return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
}

/** The `dataType` object of Tecton's metadata. */
export function dataTypeJson(t: DataType): { type: string; elementType?: unknown } {
  return t.type === 'array' ? { type: 'array', elementType: dataTypeJson(t.elementType ?? { type: 'string' }) } : { type: t.type };
}

/** JSON text for Feast responses: like JSON.stringify, but bigint is written as an exact integer. */
export function writeFeastJson(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'bigint':
      return v.toString();
    case 'number':
      return Number.isFinite(v) ? String(v) : `"${nonFinite(v)}"`;
    case 'string':
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object': {
      if (v instanceof Timestamp) return `"${v.toISOString()}"`;
      if (Array.isArray(v)) {
        let out = '[';
        for (let i = 0; i < v.length; i++) out += (i ? ',' : '') + writeFeastJson(v[i]);
        return out + ']';
      }
      let out = '{';
      let first = true;
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        if (x === undefined) continue;
        out += (first ? '' : ',') + JSON.stringify(k) + ':' + writeFeastJson(x);
        first = false;
      }
      return out + '}';
    }
    default:
      return 'null';
  }
}

/** A value as JSON shows it (SPEC section 6): int64 as a string, NaN and infinities as strings, timestamps ISO 8601 UTC. */
export function toJsonValue(v: Value): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (v instanceof Timestamp) return v.toISOString();
  if (Array.isArray(v)) return v.map(toJsonValue);
  return v;
}

/** A value as Tecton JSON text (toJsonValue, written directly): on-demand values, and the feature log's join keys and request fields. */
export function valueJson(v: Value): string {
  if (typeof v === 'string') return stringJson(v);
  if (v === null) return 'null';
  if (typeof v === 'bigint') return `"${bigintText(v)}"`;
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : `"${v}"`;
  if (typeof v === 'boolean') return String(v);
  return JSON.stringify(toJsonValue(v));
}

/** A bigint in decimal: through a number when it is a safe integer (every timestamp in microseconds until the year 2255), which is about twice as fast. */
export function bigintText(v: bigint): string {
  const n = Number(v);
  return Number.isSafeInteger(n) ? String(n) : String(v);
}

/**
 * A string's JSON text: JSON.stringify's, which is the string quoted when it holds nothing to
 * escape (no quote, backslash, control character or surrogate); checking that is about 4x faster
 * than JSON.stringify for short texts such as join keys (a 50-row logged batch writes 100).
 */
function stringJson(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === QUOTE || c === BACKSLASH || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(s);
  }
  return `"${s}"`;
}
