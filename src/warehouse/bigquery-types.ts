/**
 * BigQuery's REST wire format (TableFieldSchema + `{f: [{v}]}` rows) to the common value set.
 * Rows are decoded here, not by the SDK, so that INT64 stays exact (bigint, never a JS number)
 * and TIMESTAMP keeps its microseconds (requested as int64 micros with
 * `formatOptions.useInt64Timestamp`).
 */
import { Timestamp, type Column, type DataType, type Row, type Value } from '../values.js';

/** A column of a table or result schema, as the REST API returns it (TableFieldSchema). */
export interface FieldSchema {
  name: string;
  type: string;
  mode?: string;
  fields?: FieldSchema[];
}

/** A cell: `{v: value}`; a row: `{f: cells}`. Values are strings, null, cell lists (REPEATED) or rows (RECORD). */
export interface WireCell {
  v: WireValue;
}
export type WireValue = string | null | WireCell[] | WireRow;
export interface WireRow {
  f: WireCell[];
}

/** The common type of a field; REPEATED fields are arrays of their element type. */
export function dataTypeOf(field: FieldSchema): DataType {
  const scalar = scalarTypeOf(field.type);
  return field.mode?.toUpperCase() === 'REPEATED' ? { type: 'array', elementType: scalar } : scalar;
}

function scalarTypeOf(type: string): DataType {
  switch (type.toUpperCase()) {
    case 'INTEGER':
    case 'INT64':
      return { type: 'int64' };
    case 'FLOAT':
    case 'FLOAT64':
    case 'NUMERIC':
    case 'BIGNUMERIC':
    case 'DECIMAL':
    case 'BIGDECIMAL':
      return { type: 'float64' };
    case 'BOOLEAN':
    case 'BOOL':
      return { type: 'boolean' };
    case 'TIMESTAMP':
    case 'DATETIME':
    case 'DATE':
      return { type: 'timestamp' };
    default:
      // STRING, BYTES (base64 text), TIME, GEOGRAPHY, JSON, INTERVAL, RANGE, RECORD (as JSON text)
      return { type: 'string' };
  }
}

export function columnsOf(fields: FieldSchema[]): Column[] {
  return fields.map((f) => ({ name: f.name, type: dataTypeOf(f) }));
}

type Decode = (v: WireValue) => Value;

/** A decoder for rows of this schema, built once per result. */
export function rowDecoder(fields: FieldSchema[]): (row: WireRow) => Row {
  const decoders = fields.map(fieldDecoder);
  return (row) => {
    const out: Row = {};
    const cells = row.f ?? [];
    for (let i = 0; i < fields.length; i++) out[fields[i].name] = decoders[i](cells[i]?.v ?? null);
    return out;
  };
}

function fieldDecoder(field: FieldSchema): Decode {
  const scalar = scalarDecoder(field);
  if (field.mode?.toUpperCase() !== 'REPEATED') return scalar;
  // An empty or NULL array is [] in BigQuery (arrays cannot hold or be NULL once stored).
  return (v) => (Array.isArray(v) ? v.map((cell) => scalar(cell.v)) : v === null ? [] : wrong(field, v));
}

function scalarDecoder(field: FieldSchema): Decode {
  const text = (fn: (s: string) => Value): Decode => (v) => (v === null ? null : typeof v === 'string' ? fn(v) : wrong(field, v));
  switch (field.type.toUpperCase()) {
    case 'INTEGER':
    case 'INT64':
      return text((s) => BigInt(s));
    case 'FLOAT':
    case 'FLOAT64':
    case 'NUMERIC':
    case 'BIGNUMERIC':
    case 'DECIMAL':
    case 'BIGDECIMAL':
      return text(parseFloat64);
    case 'BOOLEAN':
    case 'BOOL':
      return text((s) => s.toLowerCase() === 'true');
    case 'TIMESTAMP':
      return text(parseTimestamp);
    case 'DATE':
    case 'DATETIME':
      // civil date/time without a zone: read as UTC, as DuckDB's TIMESTAMP is
      return text((s) => Timestamp.parse(s) ?? wrong(field, s));
    case 'RECORD':
    case 'STRUCT': {
      const inner = rowDecoder(field.fields ?? []);
      return (v) => (v === null ? null : isRow(v) ? JSON.stringify(inner(v), jsonReplacer) : wrong(field, v));
    }
    default:
      return text((s) => s);
  }
}

/** INT64 microseconds (useInt64Timestamp); older servers and emulators send float seconds such as `1.7040672E9`. */
function parseTimestamp(s: string): Timestamp {
  if (/^-?\d+$/.test(s)) return new Timestamp(BigInt(s));
  const seconds = Number(s);
  if (!Number.isFinite(seconds)) throw new Error(`BigQuery returned a TIMESTAMP that is not a number: '${s}'`);
  return new Timestamp(BigInt(Math.round(seconds * 1e6)));
}

function parseFloat64(s: string): number {
  if (s === 'NaN') return NaN;
  if (s === 'Infinity' || s === '+Infinity') return Infinity;
  if (s === '-Infinity') return -Infinity;
  return Number(s);
}

function isRow(v: WireValue): v is WireRow {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Array.isArray((v as WireRow).f);
}

/** JSON.stringify has already called Timestamp.toJSON; bigint needs text. */
function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

function wrong(field: FieldSchema, v: unknown): never {
  throw new Error(`BigQuery returned an unexpected value for ${field.type} column '${field.name}': ${JSON.stringify(v)?.slice(0, 80)}`);
}
