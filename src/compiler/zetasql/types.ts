/**
 * Column types as text (`INT64`, `ARRAY<STRING>`, fsql's `int64`/`boolean`, DuckDB's `BIGINT`...)
 * and as ZetaSQL's TypeProto, in both directions.
 */
import { ZetaSqlError } from './server.js';

export interface TypeProto {
  type_kind: string;
  array_type?: { element_type: TypeProto };
  struct_type?: { field: { field_name: string; field_type: TypeProto }[] };
}

const KINDS: Record<string, string> = {
  INT64: 'TYPE_INT64', INTEGER: 'TYPE_INT64', INT: 'TYPE_INT64', BIGINT: 'TYPE_INT64',
  FLOAT64: 'TYPE_DOUBLE', FLOAT: 'TYPE_DOUBLE', DOUBLE: 'TYPE_DOUBLE',
  STRING: 'TYPE_STRING', VARCHAR: 'TYPE_STRING',
  BOOL: 'TYPE_BOOL', BOOLEAN: 'TYPE_BOOL',
  TIMESTAMP: 'TYPE_TIMESTAMP', DATE: 'TYPE_DATE', BYTES: 'TYPE_BYTES',
};

const NAMES: Record<string, string> = {
  TYPE_INT64: 'INT64', TYPE_DOUBLE: 'FLOAT64', TYPE_STRING: 'STRING', TYPE_BOOL: 'BOOL', TYPE_TIMESTAMP: 'TIMESTAMP', TYPE_DATE: 'DATE', TYPE_BYTES: 'BYTES',
};

/** `INT64`, `int64`, `ARRAY<STRING>`, ... as a TypeProto. */
export function typeProto(name: string): TypeProto {
  const text = name.trim().toUpperCase();
  const array = /^ARRAY\s*<(.+)>$/.exec(text);
  if (array) return { type_kind: 'TYPE_ARRAY', array_type: { element_type: typeProto(array[1]) } };
  const kind = KINDS[text];
  if (!kind) throw new ZetaSqlError(`column type '${name}' is not supported here; use one of ${Object.keys(KINDS).join(', ')} or ARRAY<...>`);
  return { type_kind: kind };
}

/** A TypeProto as BigQuery writes the type (`STRUCT<a INT64>` for structs). */
export function typeName(t: TypeProto): string {
  if (t.type_kind === 'TYPE_ARRAY') return `ARRAY<${typeName(t.array_type!.element_type)}>`;
  if (t.type_kind === 'TYPE_STRUCT') return `STRUCT<${(t.struct_type?.field ?? []).map((f) => `${f.field_name} ${typeName(f.field_type)}`).join(', ')}>`;
  return NAMES[t.type_kind] ?? t.type_kind.replace(/^TYPE_/, '');
}
