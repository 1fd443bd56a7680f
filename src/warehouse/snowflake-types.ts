/**
 * Snowflake types and values -> the common set (values.ts).
 *
 * - NUMBER/FIXED with scale 0 is int64, kept exact: the adapter fetches numbers as text
 *   (fetchAsString: ['Number']) and makes a bigint of it, so 2^63-1 survives.
 * - NUMBER with a scale, REAL/FLOAT are float64 (as the DuckDB adapter does for DECIMAL).
 * - DATE and TIMESTAMP_NTZ/LTZ/TZ are Timestamps in microseconds: the SDK hands over its
 *   epoch seconds and nanoseconds, so no precision is lost to JavaScript's Date. Sessions run
 *   with TIMEZONE = 'UTC', so NTZ wall-clock values and instants agree.
 * - ARRAY is an array. Snowflake's semi-structured arrays carry no element type: numbers in
 *   them arrive as float64 (exact up to 2^53), objects as JSON text.
 * - VARIANT, OBJECT, TIME, BINARY and the rest are text.
 */
import { Timestamp, type DataType, type Value } from '../values.js';

/** A Snowflake type name (result rowtype `fixed`, information_schema `NUMBER`, ...) and scale -> common type. */
export function commonType(typeName: string, scale?: number | null): DataType {
  const t = typeName.toUpperCase().replace(/\(.*$/, '').trim();
  switch (t) {
    case 'FIXED':
    case 'NUMBER':
    case 'DECIMAL':
    case 'NUMERIC':
      return { type: scale ? 'float64' : 'int64' };
    case 'INT':
    case 'INTEGER':
    case 'BIGINT':
    case 'SMALLINT':
    case 'TINYINT':
    case 'BYTEINT':
      return { type: 'int64' };
    case 'REAL':
    case 'FLOAT':
    case 'FLOAT4':
    case 'FLOAT8':
    case 'DOUBLE':
    case 'DOUBLE PRECISION':
      return { type: 'float64' };
    case 'BOOLEAN':
      return { type: 'boolean' };
    case 'DATE':
    case 'DATETIME':
    case 'TIMESTAMP':
    case 'TIMESTAMP_NTZ':
    case 'TIMESTAMP_LTZ':
    case 'TIMESTAMP_TZ':
      return { type: 'timestamp' };
    case 'ARRAY':
      return { type: 'array' };
    default:
      return { type: 'string' };
  }
}

/** What the SDK hands over for a DATE or TIMESTAMP_* value (a Date with Snowflake's parts). */
interface SfDate {
  getEpochSeconds(): number;
  getNanoSeconds(): number;
}

export type Convert = (v: unknown) => Value;

/** The converter for one result column, given its rowtype name and scale. */
export function converterFor(typeName: string, scale?: number | null): Convert {
  const t = typeName.toLowerCase();
  const common = commonType(typeName, scale);
  switch (common.type) {
    case 'int64':
      return (v) => (v === null || v === undefined ? null : toBigInt(v));
    case 'float64':
      return (v) => (v === null || v === undefined ? null : toFloat(v));
    case 'boolean':
      return (v) => (v === null || v === undefined ? null : v === true || v === 'TRUE' || v === 'true' || v === '1');
    case 'timestamp':
      return (v) => (v === null || v === undefined ? null : toTimestamp(v));
    case 'array':
      return (v) => (v === null || v === undefined ? null : toArray(v));
    default:
      if (t === 'binary') return (v) => (v === null || v === undefined ? null : Buffer.isBuffer(v) ? v.toString('hex').toUpperCase() : String(v));
      return (v) => (v === null || v === undefined ? null : typeof v === 'string' ? v : JSON.stringify(v));
  }
}

function toBigInt(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(v);
  return BigInt(String(v).trim());
}

function toFloat(v: unknown): number {
  if (typeof v === 'number') return v;
  const s = String(v).trim();
  if (/^[+]?inf(inity)?$/i.test(s)) return Infinity;
  if (/^-inf(inity)?$/i.test(s)) return -Infinity;
  return Number(s);
}

function toTimestamp(v: unknown): Timestamp {
  const d = v as Partial<SfDate> & { getTime?: () => number };
  if (typeof d.getEpochSeconds === 'function' && typeof d.getNanoSeconds === 'function') {
    const seconds = BigInt(Math.trunc(d.getEpochSeconds()));
    const nanos = BigInt(Math.trunc(d.getNanoSeconds() ?? 0));
    return new Timestamp(seconds * 1_000_000n + nanos / 1000n);
  }
  if (v instanceof Date) return Timestamp.fromDate(v);
  const parsed = Timestamp.parse(String(v));
  if (!parsed) throw new Error(`not a timestamp: ${String(v)}`);
  return parsed;
}

function toArray(v: unknown): Value[] {
  const items = typeof v === 'string' ? (JSON.parse(v) as unknown) : v;
  if (!Array.isArray(items)) return [element(items)];
  return items.map(element);
}

function element(v: unknown): Value {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' || typeof v === 'bigint') return v;
  if (Array.isArray(v)) return v.map(element);
  return JSON.stringify(v);
}

/**
 * Snowflake folds unquoted identifiers to upper case and the dialect writes plain lower-case
 * names as upper-case quoted ones (dialects/snowflake.ts). Names coming back are folded the
 * other way, so `USER_ID` reads as `user_id` on Snowflake as on DuckDB; names with other
 * characters or mixed case keep theirs.
 */
export function fromSnowflakeName(name: string): string {
  return /^[A-Z_][A-Z0-9_$]*$/.test(name) ? name.toLowerCase() : name;
}

/** The stored name of an identifier fsql writes (the dialect's quoting rule, unquoted). */
export function toSnowflakeName(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_$]*$/.test(name) ? name.toUpperCase() : name;
}
