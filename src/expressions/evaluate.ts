/**
 * The server's evaluator: a typed tree (tree.ts) compiled once into closures, so a request runs
 * no parser and no type dispatch. This file is also where the language's semantics are written
 * down; dialects/expression-sql.ts renders the same rules for each warehouse:
 *
 * - SQL's NULL rules: an operator or function with a NULL argument is NULL (except AND/OR's
 *   three-valued logic, IS NULL, COALESCE, CASE); least/greatest/concat are NULL if any argument is.
 * - float64 values are finite: a NaN or infinite input is NULL, and so is a result that would
 *   overflow. Guards decide overflow from the operands with float64 operations every engine rounds
 *   the same way: `a + b` (same signs) is NULL when |a| > MAX - |b|; `a * b` is NULL when |a|,|b| >= 1
 *   and |a| > MAX / |b|, and 0 when |a|,|b| < 1 and |a| < MIN_NORMAL / |b|; `a / b` is NULL for
 *   b = 0, NULL when |b| < 1 and |a| > MAX * |b|, 0 when |b| >= 1 and |a| < MIN_NORMAL * |b|.
 * - `/` divides as float64. int64 `+ - * %` and unary minus, abs: NULL on overflow; `% 0` is NULL;
 *   `%` keeps the dividend's sign (truncated division).
 * - sqrt(x < 0), ln(x <= 0), power(0, y < 0), power(x < 0, non-integer y) are NULL; exp(x) is NULL
 *   above ln(MAX) and 0 below ln(MIN_NORMAL); power(x, y) is NULL when |y| > 1e300 or y*ln|x| >
 *   ln(MAX), 0 when it is below ln(MIN_NORMAL).
 * - round(x) rounds half away from zero; CAST(float64 AS int64) is round(x), NULL outside int64.
 *   CAST(string AS int64) reads [+-]digits only, NULL otherwise or outside int64.
 * - Strings are sequences of Unicode code points: length counts them, substr(s, start[, len]) is
 *   1-based over them (NULL for start < 1 or len < 0), comparisons order them by code point
 *   (byte order of UTF-8), lower/upper change the ASCII letters only (warehouses disagree on the
 *   rest: DuckDB upper('ß') is 'ẞ', PostgreSQL's 'ß', JavaScript's 'SS').
 * - extract(dayofweek) is 1 (Sunday) to 7 (Saturday), as BigQuery's; times are UTC.
 */
import { Timestamp, type Value } from '../values.js';
import { EXP_MAX, EXP_MIN, FLOAT_MAX, FLOAT_MIN_NORMAL, INT64_MAX, INT64_MIN, POWER_MAX_EXPONENT, type Typed } from './tree.js';

export type Evaluator = (inputs: readonly Value[]) => Value;

type F = Evaluator;

export function compileEvaluator(t: Typed): Evaluator {
  switch (t.kind) {
    case 'literal': {
      const v = t.value as Value;
      return () => v;
    }
    case 'input': {
      const slot = t.slot;
      if (t.type === 'float64') return (r) => finite(r[slot] as number | null);
      return (r) => r[slot] ?? null;
    }
    case 'toFloat': {
      const a = compileEvaluator(t.arg);
      return (r) => {
        const v = a(r);
        return v === null ? null : Number(v as bigint);
      };
    }
    case 'neg': {
      const a = compileEvaluator(t.arg);
      if (t.type === 'int64') return (r) => int(a(r), (x) => -x);
      return (r) => {
        const v = a(r) as number | null;
        return v === null ? null : -v;
      };
    }
    case 'arith':
      return arith(t.op, t.type, compileEvaluator(t.left), compileEvaluator(t.right));
    case 'compare': {
      const a = compileEvaluator(t.left);
      const b = compileEvaluator(t.right);
      const test = COMPARE[t.op];
      const cmp = comparator(t.left.type);
      return (r) => {
        const x = a(r);
        if (x === null) return null;
        const y = b(r);
        return y === null ? null : test(cmp(x, y));
      };
    }
    case 'and': {
      const [a, b] = t.args.map(compileEvaluator);
      return (r) => {
        const x = a(r);
        if (x === false) return false;
        const y = b(r);
        if (y === false) return false;
        return x === null || y === null ? null : true;
      };
    }
    case 'or': {
      const [a, b] = t.args.map(compileEvaluator);
      return (r) => {
        const x = a(r);
        if (x === true) return true;
        const y = b(r);
        if (y === true) return true;
        return x === null || y === null ? null : false;
      };
    }
    case 'not': {
      const a = compileEvaluator(t.arg);
      return (r) => {
        const x = a(r);
        return x === null ? null : !x;
      };
    }
    case 'isNull': {
      const a = compileEvaluator(t.arg);
      const negated = t.negated;
      return (r) => (a(r) === null) !== negated;
    }
    case 'in': {
      const a = compileEvaluator(t.arg);
      const list = t.list.map(compileEvaluator);
      const cmp = comparator(t.arg.type);
      const negated = t.negated;
      return (r) => {
        const x = a(r);
        if (x === null) return null;
        let sawNull = false;
        for (const e of list) {
          const y = e(r);
          if (y === null) sawNull = true;
          else if (cmp(x, y) === 0) return !negated;
        }
        return sawNull ? null : negated;
      };
    }
    case 'case': {
      const whens = t.whens.map((w) => [compileEvaluator(w.when), compileEvaluator(w.then)] as const);
      const otherwise = compileEvaluator(t.otherwise);
      return (r) => {
        for (const [w, v] of whens) if (w(r) === true) return v(r);
        return otherwise(r);
      };
    }
    case 'cast':
      return unaryNotNull(compileEvaluator(t.arg), castOf(t.arg.type, t.type));
    case 'extract': {
      const field = t.field;
      return unaryNotNull(compileEvaluator(t.arg), (v) => {
        const d = new Date(Number(floorDiv((v as Timestamp).micros, 1000n)));
        return BigInt(field === 'hour' ? d.getUTCHours() : field === 'day' ? d.getUTCDate() : field === 'month' ? d.getUTCMonth() + 1 : d.getUTCDay() + 1);
      });
    }
    case 'call':
      return callOf(t);
  }
}

const COMPARE: Record<string, (c: number) => boolean> = {
  '=': (c) => c === 0,
  '<>': (c) => c !== 0,
  '<': (c) => c < 0,
  '<=': (c) => c <= 0,
  '>': (c) => c > 0,
  '>=': (c) => c >= 0,
};

function comparator(type: string): (a: Value, b: Value) => number {
  if (type === 'string') return (a, b) => compareCodePoints(a as string, b as string);
  if (type === 'timestamp') return (a, b) => { const x = (a as Timestamp).micros, y = (b as Timestamp).micros; return x < y ? -1 : x > y ? 1 : 0; };
  if (type === 'boolean') return (a, b) => (a === b ? 0 : a ? 1 : -1);
  return (a, b) => ((a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0);
}

/** Order by Unicode code point (UTF-8 byte order), which UTF-16's `<` is not for surrogates. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      const sx = x >= 0xd800 && x <= 0xdfff;
      const sy = y >= 0xd800 && y <= 0xdfff;
      if (sx !== sy) return sx ? 1 : -1;
      return x < y ? -1 : 1;
    }
  }
  return a.length - b.length;
}

function finite(v: number | null): number | null {
  return v === null || Number.isFinite(v) ? v : null;
}

function int(v: Value, op: (x: bigint) => bigint): bigint | null {
  if (v === null) return null;
  const r = op(v as bigint);
  return r < INT64_MIN || r > INT64_MAX ? null : r;
}

function unaryNotNull(a: F, f: (v: Value) => Value): F {
  return (r) => {
    const v = a(r);
    return v === null ? null : f(v);
  };
}

function binaryNotNull(a: F, b: F, f: (x: Value, y: Value) => Value): F {
  return (r) => {
    const x = a(r);
    if (x === null) return null;
    const y = b(r);
    return y === null ? null : f(x, y);
  };
}

function arith(op: string, type: 'int64' | 'float64', a: F, b: F): F {
  if (type === 'int64') {
    const f = INT_OPS[op];
    return binaryNotNull(a, b, (x, y) => f(x as bigint, y as bigint));
  }
  const f = FLOAT_OPS[op];
  return binaryNotNull(a, b, (x, y) => f(x as number, y as number));
}

const inRange = (r: bigint) => (r < INT64_MIN || r > INT64_MAX ? null : r);
const INT_OPS: Record<string, (x: bigint, y: bigint) => bigint | null> = {
  '+': (x, y) => inRange(x + y),
  '-': (x, y) => inRange(x - y),
  '*': (x, y) => inRange(x * y),
  '%': (x, y) => (y === 0n ? null : x % y),
};

export const FLOAT_OPS: Record<string, (x: number, y: number) => number | null> = {
  '+': (x, y) => ((x > 0 && y > 0) || (x < 0 && y < 0)) && Math.abs(x) > FLOAT_MAX - Math.abs(y) ? null : finite(x + y),
  '-': (x, y) => ((x > 0 && y < 0) || (x < 0 && y > 0)) && Math.abs(x) > FLOAT_MAX - Math.abs(y) ? null : finite(x - y),
  '*': (x, y) => {
    if (x === 0 || y === 0) return x * y;
    const ax = Math.abs(x);
    const ay = Math.abs(y);
    if (ax >= 1 && ay >= 1) return ax > FLOAT_MAX / ay ? null : finite(x * y);
    if (ax < 1 && ay < 1 && ax < FLOAT_MIN_NORMAL / ay) return 0;
    return x * y;
  },
  '/': (x, y) => {
    if (y === 0) return null;
    if (x === 0) return x / y;
    const ax = Math.abs(x);
    const ay = Math.abs(y);
    if (ay >= 1) return ax < FLOAT_MIN_NORMAL * ay ? 0 : x / y;
    return ax > FLOAT_MAX * ay ? null : finite(x / y);
  },
};

/** Half away from zero, exactly: |x| - floor(|x|) is exact in float64. */
export function roundHalfAway(x: number): number {
  const a = Math.abs(x);
  const f = Math.floor(a);
  const r = a - f >= 0.5 ? f + 1 : f;
  return x < 0 ? -r : r;
}

const TWO_63 = 9223372036854775808;
const INT_TEXT = /^[+-]?[0-9]+$/;

function castOf(from: string, to: string): (v: Value) => Value {
  switch (`${from}>${to}`) {
    case 'int64>float64': return (v) => Number(v as bigint);
    case 'int64>string': return (v) => (v as bigint).toString();
    case 'int64>boolean': return (v) => v !== 0n;
    case 'float64>int64': return (v) => {
      const r = roundHalfAway(v as number);
      return r >= -TWO_63 && r < TWO_63 ? BigInt(r) : null;
    };
    case 'string>int64': return (v) => (INT_TEXT.test(v as string) ? inRange(BigInt(v as string)) : null);
    case 'boolean>int64': return (v) => (v ? 1n : 0n);
    case 'boolean>string': return (v) => (v ? 'true' : 'false');
  }
  throw new Error(`no cast from ${from} to ${to}`);
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

const ASCII_UPPER = (s: string) => s.replace(/[a-z]+/g, (m) => m.toUpperCase());
const ASCII_LOWER = (s: string) => s.replace(/[A-Z]+/g, (m) => m.toLowerCase());

function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff) n++;
  }
  return n;
}

/** Max argument a substring position takes: no string is longer. */
const POSITION_CAP = 1_000_000_000n;

function substr(s: string, start: bigint, len: bigint | undefined): string | null {
  if (start < 1n || (len !== undefined && len < 0n)) return null;
  const from = Number(start < POSITION_CAP ? start : POSITION_CAP) - 1;
  const chars = Array.from(s);
  if (len === undefined) return chars.slice(from).join('');
  return chars.slice(from, from + Number(len < POSITION_CAP ? len : POSITION_CAP)).join('');
}

function power(x: number, y: number): number | null {
  if (Math.abs(y) > POWER_MAX_EXPONENT) return null;
  if (y === 0) return 1;
  if (x === 0) return y > 0 ? 0 : null;
  if (x < 0 && y !== Math.floor(y)) return null;
  const l = y * Math.log(Math.abs(x));
  if (l > EXP_MAX) return null;
  if (l < EXP_MIN) return 0;
  return finite(Math.pow(x, y));
}

function callOf(t: Extract<Typed, { kind: 'call' }>): F {
  const args = t.args.map(compileEvaluator);
  const [a, b, c] = args;
  const float = t.type === 'float64';
  switch (t.name) {
    case 'abs': return float ? unaryNotNull(a, (v) => Math.abs(v as number)) : (r) => int(a(r), (x) => (x < 0n ? -x : x));
    case 'sign': return float ? unaryNotNull(a, (v) => Math.sign(v as number)) : unaryNotNull(a, (v) => ((v as bigint) > 0n ? 1n : (v as bigint) < 0n ? -1n : 0n));
    case 'round': return float ? unaryNotNull(a, (v) => roundHalfAway(v as number)) : a;
    case 'floor': return float ? unaryNotNull(a, (v) => Math.floor(v as number)) : a;
    case 'ceil': return float ? unaryNotNull(a, (v) => Math.ceil(v as number)) : a;
    case 'sqrt': return unaryNotNull(a, (v) => ((v as number) < 0 ? null : Math.sqrt(v as number)));
    case 'ln': return unaryNotNull(a, (v) => ((v as number) <= 0 ? null : Math.log(v as number)));
    case 'exp': return unaryNotNull(a, (v) => ((v as number) > EXP_MAX ? null : (v as number) < EXP_MIN ? 0 : finite(Math.exp(v as number))));
    case 'power': return binaryNotNull(a, b, (x, y) => power(x as number, y as number));
    case 'least': case 'greatest': {
      const cmp = comparator(t.type);
      const sign = t.name === 'least' ? -1 : 1;
      return (r) => {
        let best: Value = null;
        for (const f of args) {
          const v = f(r);
          if (v === null) return null;
          if (best === null || cmp(v, best) * sign > 0) best = v;
        }
        return best;
      };
    }
    case 'lower': return unaryNotNull(a, (v) => ASCII_LOWER(v as string));
    case 'upper': return unaryNotNull(a, (v) => ASCII_UPPER(v as string));
    case 'length': return unaryNotNull(a, (v) => BigInt(codePoints(v as string)));
    case 'substr':
      return (r) => {
        const s = a(r);
        const start = b(r);
        const len = c ? c(r) : undefined;
        if (s === null || start === null || len === null) return null;
        return substr(s as string, start as bigint, len as bigint | undefined);
      };
    case 'concat':
      return (r) => {
        let out = '';
        for (const f of args) {
          const v = f(r);
          if (v === null) return null;
          out += v as string;
        }
        return out;
      };
    case 'coalesce':
      return (r) => {
        for (const f of args) {
          const v = f(r);
          if (v !== null) return v;
        }
        return null;
      };
    case 'nullif': {
      const cmp = comparator(t.type);
      return (r) => {
        const x = a(r);
        if (x === null) return null;
        const y = b(r);
        return y !== null && cmp(x, y) === 0 ? null : x;
      };
    }
  }
}
