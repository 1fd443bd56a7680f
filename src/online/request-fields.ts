/**
 * The request fields of on-demand views (SPEC section 10) as a request sends them: Tecton's
 * `request_context_map`, Feast's request data beside the entities, `fsql get --request k=v`.
 * Each field is required (a JSON null is a NULL value) and typed like a join key of its type
 * (join-keys.ts), except that a float64 field takes only a JSON number (or "NaN", "Infinity",
 * "-Infinity", which the expressions read as NULL). A missing or mistyped field is a 400/3 naming it.
 */
import { RequestError } from '../errors.js';
import type { DataType, Value } from '../values.js';
import { joinKeyValue, jsonTypeOf, type ValueSubject } from './join-keys.js';

export interface RequestField {
  name: string;
  type: DataType;
}

const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

/** The values of `fields` from `map` (own keys only), in order; `what` prefixes messages. */
export function parseRequestContext(fields: readonly RequestField[], map: unknown, what: string, service: string): Value[] {
  if (fields.length === 0) return [];
  const expected = () => fields.map((f) => `${f.name} (${f.type.type})`).join(', ');
  if (map === undefined) throw new RequestError(400, 3, `${what}: 'request_context_map' is missing; feature service '${service}' needs request fields ${expected()}.`);
  if (map === null || typeof map !== 'object' || Array.isArray(map)) {
    throw new RequestError(400, 3, `${what}: 'request_context_map' must be an object; feature service '${service}' needs request fields ${expected()}.`);
  }
  const m = map as Record<string, unknown>;
  return fields.map((f) => {
    if (!Object.hasOwn(m, f.name)) throw new RequestError(400, 3, `${what}: request field '${f.name}' is missing from 'request_context_map'; feature service '${service}' needs ${expected()}.`);
    return fieldValue(m[f.name], f, what);
  });
}

export function fieldValue(raw: unknown, f: RequestField, what: string): Value {
  if (raw === null) return null;
  if (f.type.type === 'float64') {
    if (typeof raw === 'number') return raw;
    if (typeof raw === 'string' && raw in NON_FINITE) return NON_FINITE[raw];
    throw new RequestError(400, 3, `${what}: request field '${f.name}' is float64; send a JSON number, not ${jsonTypeOf(raw)}.`);
  }
  try {
    return joinKeyValue(raw, f, REQUEST_FIELD);
  } catch (e) {
    if (!(e instanceof RequestError)) throw e;
    throw new RequestError(400, 3, `${what}: ${e.message}`);
  }
}

const REQUEST_FIELD: ValueSubject = { of: (n) => `request field '${n}'`, is: (n, t) => `request field '${n}' is ${t}` };
