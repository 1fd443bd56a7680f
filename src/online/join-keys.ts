/**
 * The one parser of join key values, for every HTTP endpoint (Tecton, Feast, push) and for
 * `fsql get`: names checked against what the features need, each value converted by its key's
 * type. An int64 key takes a decimal string or an integral number within 2^53 (or a bigint, from a
 * warehouse row); a string key takes a string or a number (its text), never a boolean, an object
 * or an array; null means "no key" and matches nothing. Every refusal is a RequestError 400 with
 * gRPC code 3 (INVALID_ARGUMENT).
 */
import { RequestError } from '../errors.js';
import { Timestamp, type DataType, type Value } from '../values.js';

const INVALID_ARGUMENT = 3;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export interface JoinKey {
  name: string;
  type: DataType;
}

function invalid(message: string): RequestError {
  return new RequestError(400, INVALID_ARGUMENT, message);
}

/** A user-supplied name or value as it may appear in a message: quoted, at most 64 characters, no control characters. */
export function quote(v: unknown): string {
  let text: string;
  if (typeof v === 'string') text = v;
  else if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' || v === null) text = String(v);
  else text = Array.isArray(v) ? 'an array' : 'an object';
  if (text.length > 64) text = `${text.slice(0, 61)}...`;
  return `'${text.replace(/[\u0000-\u001f\u007f]/g, '?')}'`;
}

export function jsonTypeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/**
 * A map of join key names to values (own keys only, so "__proto__" is a plain unknown name) as the
 * values of `keys`, in that order. `what` prefixes messages (`params`, `request_data[3]`).
 */
export function parseJoinKeyMap(keys: readonly JoinKey[], map: unknown, what: string, service: string): Value[] {
  const expected = () => keys.map((k) => k.name).join(', ');
  if (map === null || typeof map !== 'object' || Array.isArray(map)) {
    throw invalid(`${what}: 'join_key_map' must be an object of join key names to values, not ${jsonTypeOf(map)}; feature service '${service}' takes ${expected()}.`);
  }
  const m = map as Record<string, unknown>;
  for (const name of Object.keys(m)) {
    if (!keys.some((k) => k.name === name)) throw invalid(`${what}: unknown join key ${quote(name)}; feature service '${service}' takes ${expected()}.`);
  }
  return keys.map((k) => {
    if (!Object.hasOwn(m, k.name)) throw invalid(`${what}: join key '${k.name}' is missing; feature service '${service}' takes ${expected()}.`);
    return joinKeyValue(m[k.name], k);
  });
}

/** How messages name a value: a join key, or a request field of an on-demand view (request-fields.ts). */
export interface ValueSubject {
  of(name: string): string;
  /** `<of(name)> is a <type> key` or `... is <type>` */
  is(name: string, type: string): string;
}

export const JOIN_KEY: ValueSubject = { of: (n) => `join key '${n}'`, is: (n, t) => `join key '${n}' is a ${t} key` };

/** One join key (or request field) value converted by its type (see the module comment). */
export function joinKeyValue(raw: unknown, key: JoinKey, subject: ValueSubject = JOIN_KEY): Value {
  if (raw === null || raw === undefined) return null;
  const name = key.name;
  switch (key.type.type) {
    case 'int64':
      return int64Value(raw, subject.of(name));
    case 'string':
      if (typeof raw === 'string') return raw;
      if (typeof raw === 'number' && Number.isFinite(raw)) return String(raw);
      if (typeof raw === 'bigint') return raw.toString();
      throw invalid(`${subject.is(name, 'string')}; send a JSON string or number, not ${jsonTypeOf(raw)}.`);
    case 'float64':
      if (typeof raw === 'number') return raw;
      if (typeof raw === 'string' && raw.trim() !== '' && Number.isFinite(Number(raw))) return Number(raw);
      throw invalid(`${subject.is(name, 'float64')}; send a JSON number, not ${jsonTypeOf(raw)}.`);
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === 'false') return raw === 'true';
      throw invalid(`${subject.is(name, 'boolean')}; send true or false, not ${jsonTypeOf(raw)}.`);
    case 'timestamp': {
      const ts = raw instanceof Timestamp ? raw : typeof raw === 'string' ? Timestamp.parse(raw) : undefined;
      if (ts) return ts;
      throw invalid(`${subject.is(name, 'timestamp')}; send an ISO 8601 string such as 2024-01-31T12:00:00Z.`);
    }
    default:
      throw invalid(`${subject.of(name)} has type ${key.type.type}, which cannot be sent.`);
  }
}

/** An int64 from a request: a decimal string, an integral number within 2^53, or a bigint. */
export function int64Value(raw: unknown, what: string): bigint {
  let v: bigint | undefined;
  if (typeof raw === 'bigint') v = raw;
  else if (typeof raw === 'string' && /^-?\d{1,19}$/.test(raw)) v = BigInt(raw);
  else if (typeof raw === 'number' && Number.isSafeInteger(raw)) v = BigInt(raw);
  else if (typeof raw === 'number' && Number.isInteger(raw)) {
    throw invalid(`${what} is an int64 beyond 2^53, which JSON numbers cannot carry exactly; send it as a decimal string.`);
  }
  if (v === undefined) throw invalid(`${what} is an int64; send a decimal string or an integral number, not ${raw === null ? 'null' : quote(raw)}.`);
  if (v < INT64_MIN || v > INT64_MAX) throw invalid(`${what} ${quote(raw)} is outside the int64 range.`);
  return v;
}
