/**
 * PostgreSQL types and values -> the common set (values.ts). Parsers are installed per client
 * (not globally in `pg.types`), so other pg users in the process are unaffected.
 * - bigint is int64, kept exact as a bigint; int/smallint are int64 too (as numbers are on DuckDB's
 *   narrower ints); numeric with scale 0 is int64, other numerics float64.
 * - timestamp and timestamptz keep their microseconds (pg's default parser makes a Date of them);
 *   sessions run in UTC, so both read as UTC instants. date is a timestamp at midnight.
 * - arrays of these types hold the same values (pg's own parsers give int8[] items as strings and
 *   timestamp[] items as Dates, to the millisecond): an aggregate sync's distinct values of an int64
 *   column must equal its raw rows' values.
 */
import pg from 'pg';
import { Timestamp, type DataType, type Value } from '../values.js';

const OID = { int8: 20, int2: 21, int4: 23, float4: 700, float8: 701, numeric: 1700, date: 1082, timestamp: 1114, timestamptz: 1184 };
/** The array type of each of those, and text[]'s, whose parser splits any array's text into items. */
const ARRAY_OF: Record<number, number> = { 1016: OID.int8, 1005: OID.int2, 1007: OID.int4, 1021: OID.float4, 1022: OID.float8, 1231: OID.numeric, 1182: OID.date, 1115: OID.timestamp, 1185: OID.timestamptz };
const TEXT_ARRAY = 1009;

const parseTs = (text: string): Value => Timestamp.parse(text) ?? text;
const PARSERS: Record<number, (text: string) => Value> = {
  [OID.int8]: (t) => BigInt(t),
  [OID.int2]: Number,
  [OID.int4]: Number,
  [OID.float4]: Number,
  [OID.float8]: Number,
  [OID.date]: parseTs,
  [OID.timestamp]: parseTs,
  [OID.timestamptz]: parseTs,
  [OID.numeric]: (t) => (/^-?\d+$/.test(t) ? BigInt(t) : Number(t)),
};
type Items = (string | null | Items)[];
const items = (pg.types.getTypeParser as (oid: number) => (text: string) => Items)(TEXT_ARRAY);
for (const [array, item] of Object.entries(ARRAY_OF)) {
  const parse = PARSERS[item];
  // a 2-D array has the same type: its items are arrays
  const each = (xs: Items): Value => xs.map((x) => (x === null ? null : Array.isArray(x) ? each(x) : parse(x))) as Value;
  PARSERS[Number(array)] = (text) => each(items(text));
}

export const pgTypes = {
  getTypeParser: ((oid: number, format?: string) => PARSERS[oid] ?? pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** An information_schema.columns data_type (and numeric scale) -> common type. */
export function commonType(dataType: string, scale: number | null): DataType {
  switch (dataType) {
    case 'bigint':
    case 'integer':
    case 'smallint':
      return { type: 'int64' };
    case 'numeric':
      return { type: scale === 0 ? 'int64' : 'float64' };
    case 'double precision':
    case 'real':
      return { type: 'float64' };
    case 'boolean':
      return { type: 'boolean' };
    case 'date':
    case 'timestamp without time zone':
    case 'timestamp with time zone':
      return { type: 'timestamp' };
    case 'ARRAY':
      return { type: 'array' };
    default:
      return { type: 'string' };
  }
}

/** The PostgreSQL column type for a common type (tables loaded from files). */
export function pgTypeOf(t: DataType): string {
  switch (t.type) {
    case 'int64':
      return 'bigint';
    case 'float64':
      return 'double precision';
    case 'boolean':
      return 'boolean';
    case 'timestamp':
      return 'timestamp';
    default:
      return 'text';
  }
}
