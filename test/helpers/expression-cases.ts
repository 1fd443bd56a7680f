/**
 * Random expressions of the on-demand language (as source text, so the parser is exercised too)
 * and random input rows full of edge values: NULLs, zeros, negatives, int64 bounds, huge, tiny and
 * subnormal floats, NaN and infinities (inputs only: the language reads them as NULL), empty and
 * non-ASCII strings, timestamps before and after 1970.
 */
import { seededRandom } from '../../src/seeded-random.js';
import type { ExprType } from '../../src/expressions/tree.js';
import { Timestamp, type Value } from '../../src/values.js';

export const INPUTS: { name: string; type: ExprType }[] = [
  { name: 'i1', type: 'int64' },
  { name: 'i2', type: 'int64' },
  { name: 'f1', type: 'float64' },
  { name: 'f2', type: 'float64' },
  { name: 's1', type: 'string' },
  { name: 's2', type: 'string' },
  { name: 'b1', type: 'boolean' },
  { name: 't1', type: 'timestamp' },
];

const INTS = [0n, 1n, -1n, 2n, 3n, -7n, 10n, 3037000500n, -3037000500n, 2n ** 62n, 9223372036854775807n, -9223372036854775808n, 123456789n];
const FLOATS = [0, -0, 0.5, 1.5, 2.5, -2.5, -0.5, 0.49999999999999994, 3, 1e300, -1e300, 1e-300, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 9.2e18, -9.3e18, 4503599627370497, 0.1, 1e-8];
const STRINGS = ['', 'a', 'Abc', 'héllo', 'HÉLLO', '日本語', '😀x', 'ß', 'Zz', '+12', '-0', '007', '99999999999999999999', ' 1', 'x y', "it's"];
/** Input-only floats: the language reads them as NULL. */
const NON_FINITE = [NaN, Infinity, -Infinity];

export class ExpressionGen {
  private readonly r: () => number;
  constructor(seed: number) {
    this.r = seededRandom(seed);
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.r() * xs.length)];
  }
  private chance(p: number): boolean {
    return this.r() < p;
  }

  intValue(): bigint {
    return this.chance(0.7) ? this.pick(INTS) : BigInt(Math.floor((this.r() - 0.5) * 2000));
  }
  floatValue(): number {
    return this.chance(0.7) ? this.pick(FLOATS) : (this.r() - 0.5) * 10 ** Math.floor(this.r() * 40 - 20);
  }

  /** One input row: values by INPUTS order. */
  row(): Value[] {
    const nul = () => this.chance(0.12);
    return [
      nul() ? null : this.intValue(),
      nul() ? null : this.intValue(),
      nul() ? null : this.chance(0.08) ? this.pick(NON_FINITE) : this.floatValue(),
      nul() ? null : this.chance(0.08) ? this.pick(NON_FINITE) : this.floatValue(),
      nul() ? null : this.pick(STRINGS),
      nul() ? null : this.pick(STRINGS),
      nul() ? null : this.chance(0.5),
      nul() ? null : new Timestamp(BigInt(Math.floor((this.r() - 0.3) * 4e15))),
    ];
  }

  private literal(type: ExprType): string {
    if (this.chance(0.06)) return 'null';
    switch (type) {
      case 'int64': {
        const v = this.intValue();
        return v < 0n ? `(${v})` : String(v);
      }
      case 'float64': {
        const v = this.floatValue();
        let s = String(Math.abs(v));
        if (!/[.e]/.test(s)) s += '.0';
        return v < 0 || Object.is(v, -0) ? `(-${s})` : s;
      }
      case 'string':
        return `'${this.pick(STRINGS).replace(/'/g, "''")}'`;
      case 'boolean':
        return this.pick(['true', 'false']);
      case 'timestamp':
        return 't1';
    }
  }

  private leaf(type: ExprType): string {
    const inputs = INPUTS.filter((i) => i.type === type);
    return inputs.length > 0 && this.chance(0.65) ? this.pick(inputs).name : this.literal(type);
  }

  /** An exact expression of `type` (no ln, exp, power): the same bits on every side. */
  exact(type: ExprType, depth: number): string {
    if (depth <= 0 || this.chance(0.15)) return this.leaf(type);
    const d = depth - 1;
    const num = (): string => (this.chance(0.5) ? this.exact('int64', d) : this.exact('float64', d));
    const any = (): ExprType => this.pick(['int64', 'float64', 'string', 'boolean'] as ExprType[]);
    const shared = (): string | undefined => {
      const k = this.r();
      if (k < 0.06) return `case when ${this.exact('boolean', d)} then ${this.exact(type, d)} else ${this.exact(type, d)} end`;
      if (k < 0.1) return `coalesce(${this.exact(type, d)}, ${this.exact(type, d)})`;
      if (k < 0.13) return `nullif(${this.exact(type, d)}, ${this.exact(type, d)})`;
      if (k < 0.16 && type !== 'boolean') return `${this.pick(['least', 'greatest'])}(${this.exact(type, d)}, ${this.exact(type, d)})`;
      return undefined;
    };
    const s = shared();
    if (s) return s;
    switch (type) {
      case 'int64':
        return this.pick<() => string>([
          () => `(${this.exact('int64', d)} ${this.pick(['+', '-', '*', '%'])} ${this.exact('int64', d)})`,
          () => `(-${this.exact('int64', d)})`,
          () => `${this.pick(['abs', 'sign', 'round', 'floor', 'ceil'])}(${this.exact('int64', d)})`,
          () => `length(${this.exact('string', d)})`,
          () => `cast(${this.exact(this.pick(['float64', 'string', 'boolean'] as ExprType[]), d)} as int64)`,
          () => `extract(${this.pick(['hour', 'dayofweek', 'day', 'month'])} from t1)`,
        ])();
      case 'float64':
        return this.pick<() => string>([
          () => `(${num()} ${this.pick(['+', '-', '*', '/'])} ${this.exact('float64', d)})`,
          () => `(${this.exact('float64', d)} / ${num()})`,
          () => `(${num()} / ${num()})`,
          () => `(-${this.exact('float64', d)})`,
          () => `${this.pick(['abs', 'sign', 'round', 'floor', 'ceil', 'sqrt'])}(${this.exact('float64', d)})`,
          () => `cast(${this.exact('int64', d)} as float64)`,
        ])();
      case 'string':
        return this.pick<() => string>([
          () => `${this.pick(['lower', 'upper'])}(${this.exact('string', d)})`,
          () => `substr(${this.exact('string', d)}, ${this.exact('int64', d)})`,
          () => `substr(${this.exact('string', d)}, ${this.exact('int64', d)}, ${this.exact('int64', d)})`,
          () => `concat(${this.exact('string', d)}, ${this.exact('string', d)}, ${this.exact('string', d)})`,
          () => `(${this.exact('string', d)} || ${this.exact('string', d)})`,
          () => `cast(${this.exact(this.pick(['int64', 'boolean'] as ExprType[]), d)} as string)`,
        ])();
      case 'boolean':
        return this.pick<() => string>([
          () => {
            const t = any();
            const op = t === 'boolean' ? this.pick(['=', '<>']) : this.pick(['=', '<>', '<', '<=', '>', '>=']);
            return t === 'int64' || t === 'float64' ? `(${num()} ${op} ${num()})` : `(${this.exact(t, d)} ${op} ${this.exact(t, d)})`;
          },
          () => `(${this.exact('boolean', d)} ${this.pick(['and', 'or'])} ${this.exact('boolean', d)})`,
          () => `(not ${this.exact('boolean', d)})`,
          () => `(${this.exact(any(), d)} is ${this.pick(['', 'not '])}null)`,
          () => `(${num()} ${this.pick(['', 'not '])}in (${num()}, ${num()}, ${num()}))`,
          () => `(${this.exact('string', d)} ${this.pick(['', 'not '])}in (${this.exact('string', d)}, ${this.leaf('string')}))`,
          () => `(${num()} ${this.pick(['', 'not '])}between ${num()} and ${num()})`,
          () => `(${this.exact('string', d)} between ${this.exact('string', d)} and ${this.exact('string', d)})`,
          () => `cast(${this.exact('int64', d)} as boolean)`,
        ])();
      case 'timestamp':
        return 't1';
    }
  }

  /** An expression whose last step is a libm function (ln, exp, power): within 1 ulp. */
  inexact(depth: number): string {
    const f = () => this.exact(this.chance(0.7) ? 'float64' : 'int64', depth);
    return this.pick<() => string>([() => `ln(${f()})`, () => `exp(${f()})`, () => `power(${f()}, ${f()})`, () => `power(${f()}, ${this.pick(['2', '3', '0.5', '(-1)', '(-2.0)', '10'])})`])();
  }
}
