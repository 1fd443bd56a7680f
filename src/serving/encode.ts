/**
 * JSON for the two APIs and `fsql get --json`. Tecton values are written by feature-json.ts straight from the
 * stored text (int64 as decimal strings, NaN/Infinity as strings, ISO 8601 timestamps). Feast
 * keeps int64 a JSON number, written here as an exact integer literal so no precision is lost above 2^53.
 */
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
