/**
 * An aggregate view's feature values at a request time r (SPEC section 9): each window's merged
 * part C plus the raw rows in [r - W, r) that C does not hold, with the numerics of the warehouse's
 * merge (aggregate-state.ts): count, sum, avg as sum / n, variances by the two-stage merge of
 * (n, mean, M2) (the merged mean first, then M2 = sum M2_i + sum n_i (mean_i - mean)^2), min and
 * max compared, never subtracted, first/last and first_n/last_n by (time, value), count_distinct
 * over the union of C's values and the rows'. Exact for r in [s, s + H] (plans/aggregate-online.ts).
 */
import { Timestamp, type ScalarType, type Value } from '../../values.js';
import { countsDistinct } from '../../plans/aggregate.js';
import { windowIndex, type OnlineAggFeature, type StateShape } from '../../plans/aggregate-online.js';
import { fromJson, type ValueFromJson } from './json-values.js';
import { byTimeValue, holds, type AggInput, type AggregateState, type RawRow, type Ranked } from './state.js';

interface Compiled {
  f: OnlineAggFeature;
  g: number;
  /** the input column's index, -1 for '*' */
  i: number;
}

export interface WindowReader {
  shape: StateShape;
  types: readonly ScalarType[];
  /** per input column, how its values are read from a pushed-event log (pushed.ts) */
  fromJson: ValueFromJson[];
  horizonMicros: number;
  features: Compiled[];
}

export function windowReader(shape: StateShape, types: readonly ScalarType[], features: readonly OnlineAggFeature[], horizonSeconds: number): WindowReader {
  return {
    shape,
    types,
    fromJson: types.map(fromJson),
    horizonMicros: Math.round(horizonSeconds * 1e6),
    features: features.map((f) => ({ f, g: windowIndex(shape, f), i: shape.inputs.indexOf(f.column) })),
  };
}

/** The raw rows each window counts at r, besides C (indexes into s.raw): [r - W, r) outside C's [s - W + H, s); lifetime: [s, r). */
function rawInWindows(reader: WindowReader, s: AggregateState, r: number): number[][] {
  return reader.shape.windows.map((w) => {
    const out: number[] = [];
    if (w.seconds === undefined) {
      s.raw.forEach((row, k) => row.ts >= s.at && row.ts < r && out.push(k));
      return out;
    }
    const W = Math.round(w.seconds * 1e6);
    const lo = r - W;
    const cLo = s.at - W + reader.horizonMicros;
    for (let k = 0; k < s.raw.length; k++) {
      const ts = s.raw[k].ts;
      if (ts >= r) break;
      if (ts >= lo && !(ts >= cLo && ts < s.at)) out.push(k);
    }
    return out;
  });
}

/** Every feature's value at request time r (microseconds), by feature name. */
export function valuesAt(reader: WindowReader, s: AggregateState, r: number): Record<string, Value> {
  const raw = rawInWindows(reader, s, r);
  const out: Record<string, Value> = {};
  /** per window and input column, its non-NULL raw values in the window, shared by the features reading them */
  const ranked: Ranked[][] = [];
  for (const { f, g, i } of reader.features) {
    const c = s.windows[g];
    if (i < 0) {
      out[f.name] = BigInt(c.rows + raw[g].length);
      continue;
    }
    if (countsDistinct(f.function)) {
      out[f.name] = BigInt(c.distinctCount[i] + newValues(s, g, i, raw[g]));
      continue;
    }
    const xs = (ranked[g * reader.types.length + i] ??= nonNull(s.raw, raw[g], i));
    out[f.name] = valueOf(f, c.cols[i], c.first[i], c.last[i], xs, reader.types[i]);
  }
  return out;
}

/** Column i of the rows at these indexes, as (time, value), without NULLs. */
function nonNull(rows: readonly RawRow[], at: readonly number[], i: number): Ranked[] {
  const xs: Ranked[] = [];
  for (const k of at) {
    const v = rows[k].values[i];
    if (v !== null) xs.push([rows[k].ts, v]);
  }
  return xs;
}

/**
 * How many distinct values of column i the raw rows at these indexes add to window g's C: those
 * of rows whose value C does not hold (heldByC; or not among all of C's values, when the state
 * was decoded with them: pushed events are raw rows the encoding did not see).
 */
function newValues(s: AggregateState, g: number, i: number, at: readonly number[]): number {
  const c = s.windows[g];
  const all = c.distinct[i];
  const known = all && holds(all, at.length);
  const held = c.heldByC[i];
  const added = new Set<AggInput>();
  for (const k of at) {
    const v = s.raw[k].values[i];
    if (v !== null && !(known ? known(v) : held![k])) added.add(v);
  }
  return added.size;
}

function valueOf(f: OnlineAggFeature, col: AggregateState['windows'][number]['cols'][number], first: Ranked[], last: Ranked[], xs: Ranked[], type: ScalarType): Value {
  const n = col.n + xs.length;
  const out = (v: AggInput | null): Value => (v === null ? null : type === 'timestamp' ? new Timestamp(v as bigint) : v);
  switch (f.function) {
    case 'count':
      return BigInt(n);
    case 'sum':
    case 'avg': {
      let sum: number | bigint;
      if (type === 'int64') {
        let b = (col.s as bigint | null) ?? 0n;
        for (const x of xs) b += x[1] as bigint;
        sum = b;
      } else {
        let d = (col.s as number | null) ?? 0;
        for (const x of xs) d += x[1] as number;
        sum = d;
      }
      if (f.function === 'sum') return sum;
      return n === 0 ? null : Number(sum) / n;
    }
    case 'min':
    case 'max': {
      let m = col[f.function];
      for (const [, v] of xs) if (m === null || (f.function === 'min' ? v < m : v > m)) m = v;
      return out(m);
    }
    case 'var_pop':
    case 'var_samp':
    case 'stddev_pop':
    case 'stddev_samp': {
      const samp = f.function.endsWith('samp');
      if (n === 0 || (samp && n < 2)) return null;
      let total = col.n > 0 ? col.n * col.mean! : 0;
      for (const x of xs) total += Number(x[1]);
      const mean = total / n;
      let m2 = col.n > 0 ? col.m2! + col.n * (col.mean! - mean) * (col.mean! - mean) : 0;
      for (const x of xs) m2 += (Number(x[1]) - mean) * (Number(x[1]) - mean);
      const variance = m2 / (samp ? n - 1 : n);
      return f.function.startsWith('stddev') ? Math.sqrt(variance) : variance;
    }
    case 'first':
    case 'first_n': {
      const ranked = [...first, ...xs].sort(byTimeValue).slice(0, f.n ?? 1);
      return f.function === 'first' ? out(ranked[0]?.[1] ?? null) : ranked.map((x) => out(x[1]));
    }
    case 'last':
    case 'last_n': {
      const ranked = [...last, ...xs].sort(byTimeValue);
      const tail = ranked.slice(Math.max(0, ranked.length - (f.n ?? 1)));
      return f.function === 'last' ? out(tail[tail.length - 1]?.[1] ?? null) : tail.map((x) => out(x[1]));
    }
    case 'count_distinct':
    case 'approx_count_distinct':
      throw new Error(`${f.function} is not a merge of C and rows here (feature ${f.name})`);
  }
}
