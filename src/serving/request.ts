/**
 * Request bodies to validated, typed data. Nothing in a request is trusted: every field is checked
 * for its JSON type, every map is read by own keys only (so "__proto__" or "constructor" are plain
 * unknown names), names echoed in messages are shortened, and values are converted by their type
 * into typed values that the online store encodes itself (never as text spliced into SQL or a
 * Redis key); join keys by online/join-keys.ts.
 */
import { RequestError } from '../errors.js';
import { int64Value, jsonTypeOf, quote } from '../online/join-keys.js';
import { Timestamp, type DataType, type Value } from '../values.js';

export { jsonTypeOf, quote };

export const GRPC = {
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

export type JsonObject = Record<string, unknown>;

export function badRequest(message: string): RequestError {
  return new RequestError(400, GRPC.INVALID_ARGUMENT, message);
}

export function notFound(message: string): RequestError {
  return new RequestError(404, GRPC.NOT_FOUND, message);
}

/** Parses a request body; an empty or invalid body is a 400. */
export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) throw badRequest('the request body is empty; send a JSON object.');
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw badRequest(`the request body is not valid JSON: ${(e as Error).message.slice(0, 200)}`);
  }
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function expectObject(v: unknown, what: string): JsonObject {
  if (!isObject(v)) throw badRequest(`${what} must be a JSON object, not ${jsonTypeOf(v)}.`);
  return v;
}

/** An own field by its snake_case or camelCase name; JSON null counts as absent. */
export function field(obj: JsonObject, snake: string, camel?: string): unknown {
  if (Object.hasOwn(obj, snake) && obj[snake] !== null) return obj[snake];
  if (camel && Object.hasOwn(obj, camel) && obj[camel] !== null) return obj[camel];
  return undefined;
}

export function optionalString(obj: JsonObject, snake: string, camel?: string): string | undefined {
  const v = field(obj, snake, camel);
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw badRequest(`'${snake}' must be a string, not ${jsonTypeOf(v)}.`);
  return v;
}

export function optionalBoolean(obj: JsonObject, snake: string, camel?: string): boolean | undefined {
  const v = field(obj, snake, camel);
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw badRequest(`'${snake}' must be true or false, not ${jsonTypeOf(v)}.`);
  return v;
}

export function optionalObject(obj: JsonObject, snake: string, camel?: string): JsonObject | undefined {
  const v = field(obj, snake, camel);
  if (v === undefined) return undefined;
  return expectObject(v, `'${snake}'`);
}

/**
 * A feature value from JSON (the /push endpoint), converted by the feature's type; the inverse of
 * encode.ts. null stays null.
 */
export function featureValue(raw: unknown, type: DataType, what: string): Value {
  if (raw === null) return null;
  switch (type.type) {
    case 'int64':
      return int64Value(raw, what);
    case 'float64':
      if (typeof raw === 'number') return raw;
      if (raw === 'NaN') return NaN;
      if (raw === 'Infinity') return Infinity;
      if (raw === '-Infinity') return -Infinity;
      throw badRequest(`${what} is a float64; send a JSON number (or "NaN", "Infinity", "-Infinity"), not ${jsonTypeOf(raw)}.`);
    case 'string':
      if (typeof raw === 'string') return raw;
      throw badRequest(`${what} is a string; send a JSON string, not ${jsonTypeOf(raw)}.`);
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      throw badRequest(`${what} is a boolean; send true or false, not ${jsonTypeOf(raw)}.`);
    case 'timestamp': {
      const ts = typeof raw === 'string' ? Timestamp.parse(raw) : undefined;
      if (ts) return ts;
      throw badRequest(`${what} is a timestamp; send an ISO 8601 string such as 2024-01-31T12:00:00Z, not ${quote(raw)}.`);
    }
    case 'array': {
      if (!Array.isArray(raw)) throw badRequest(`${what} is an array; send a JSON array, not ${jsonTypeOf(raw)}.`);
      const element = type.elementType ?? { type: 'string' };
      return raw.map((x, i) => featureValue(x, element, `${what}[${i}]`));
    }
    default:
      throw badRequest(`${what} has an unsupported type.`);
  }
}
