/**
 * fsql values to ZetaSQL's ValueProto cells and back (proto-loader objects: 64-bit integers as
 * decimal strings, the set field of the `value` oneof named in `value`, NULL as an empty cell).
 */
import { Timestamp, type Value } from '../../values.js';
import { ZetaSqlError } from './server.js';
import { typeName, type TypeProto } from './types.js';

/** A value read back: fsql's values, plus structs as plain objects keyed by field name. */
export type ZetaValue = Value | ZetaValue[] | { [field: string]: ZetaValue };

export interface ValueProto {
  value?: string;
  int64_value?: string;
  int32_value?: number;
  uint64_value?: string;
  uint32_value?: number;
  bool_value?: boolean;
  double_value?: number;
  float_value?: number;
  string_value?: string;
  bytes_value?: Buffer;
  date_value?: number;
  timestamp_value?: { seconds?: string; nanos?: number };
  array_value?: { element?: ValueProto[] };
  struct_value?: { field?: ValueProto[] };
}

const DAY_MS = 86_400_000;

export function encodeValue(v: ZetaValue | Date, t: TypeProto): ValueProto {
  if (v === null || v === undefined) return {};
  const bad = () => new ZetaSqlError(`cannot store ${typeof v === 'bigint' ? `${v}n` : JSON.stringify(v)} in a ${typeName(t)} column`);
  switch (t.type_kind) {
    case 'TYPE_INT64':
      if (typeof v !== 'bigint' && !(typeof v === 'number' && Number.isInteger(v))) throw bad();
      return { int64_value: String(v) };
    case 'TYPE_DOUBLE':
      if (typeof v !== 'number' && typeof v !== 'bigint') throw bad();
      return { double_value: Number(v) };
    case 'TYPE_STRING':
      if (typeof v !== 'string') throw bad();
      return { string_value: v };
    case 'TYPE_BOOL':
      if (typeof v !== 'boolean') throw bad();
      return { bool_value: v };
    case 'TYPE_TIMESTAMP': {
      const ts = v instanceof Timestamp ? v : v instanceof Date ? Timestamp.fromDate(v) : typeof v === 'string' ? Timestamp.parse(v) : undefined;
      if (!ts) throw bad();
      const seconds = floorDiv(ts.micros, 1_000_000n);
      return { timestamp_value: { seconds: String(seconds), nanos: Number(ts.micros - seconds * 1_000_000n) * 1000 } };
    }
    case 'TYPE_DATE': {
      const ms = typeof v === 'string' ? Date.parse(`${v}T00:00:00Z`) : NaN;
      if (Number.isNaN(ms)) throw bad();
      return { date_value: Math.floor(ms / DAY_MS) };
    }
    case 'TYPE_ARRAY':
      if (!Array.isArray(v)) throw bad();
      return { array_value: { element: v.map((e) => encodeValue(e, t.array_type!.element_type)) } };
    default:
      throw bad();
  }
}

export function decodeValue(cell: ValueProto, t: TypeProto): ZetaValue {
  switch (cell.value) {
    case undefined:
      return null;
    case 'int64_value':
    case 'uint64_value':
      return BigInt(cell[cell.value]!);
    case 'int32_value':
    case 'uint32_value':
    case 'double_value':
    case 'float_value':
    case 'bool_value':
    case 'string_value':
      return cell[cell.value]!;
    case 'bytes_value':
      return cell.bytes_value!.toString('base64');
    case 'date_value':
      return new Date(cell.date_value! * DAY_MS).toISOString().slice(0, 10);
    case 'timestamp_value': {
      const { seconds = '0', nanos = 0 } = cell.timestamp_value!;
      return new Timestamp(BigInt(seconds) * 1_000_000n + BigInt(Math.floor(nanos / 1000)));
    }
    case 'array_value':
      return (cell.array_value!.element ?? []).map((e) => decodeValue(e, t.array_type!.element_type));
    case 'struct_value': {
      const fields = t.struct_type?.field ?? [];
      return Object.fromEntries((cell.struct_value!.field ?? []).map((f, i) => [fields[i].field_name, decodeValue(f, fields[i].field_type)]));
    }
    default:
      throw new ZetaSqlError(`reading ${typeName(t)} values (${cell.value}) is not supported here`);
  }
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}
