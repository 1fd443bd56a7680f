/**
 * SPEC section 9 stated plainly, for tests: for an event with keys k at time t, a feature with
 * window W is its function over the input rows with keys k and `t - W <= ts < t` (`lifetime`:
 * `ts < t`), found by scanning every raw row. NULL inputs are ignored except by count('*'); over an
 * empty window count and sum give 0, first_n/last_n an empty array, the others NULL; a NULL key or
 * event time matches nothing (every feature NULL). Ties in time: `first` is the least value among
 * the earliest rows, `last` the greatest among the latest, first_n/last_n order rows by (time,
 * value) and list them oldest first.
 */
import type { AggFeature } from '../../src/plans/aggregate.js';

export type AggValue = number | string;
export interface AggRow {
  keys: (string | null)[];
  /** microseconds since the epoch */
  ts: bigint | null;
  values: Record<string, AggValue | null>;
}
export interface AggEvent {
  keys: (string | null)[];
  ts: bigint | null;
}
export type AggResult = number | string | null | AggValue[];

const cmp = (a: AggValue, b: AggValue) => (a < b ? -1 : a > b ? 1 : 0);

/** Each event's features, in the order of `features`. */
export function aggregateReference(rows: AggRow[], events: AggEvent[], features: AggFeature[]): AggResult[][] {
  return events.map((e) => {
    if (e.ts === null || e.keys.some((k) => k === null)) return features.map(() => null);
    const t = e.ts;
    const mine = rows.filter((r) => r.ts !== null && r.keys.every((k, i) => k === e.keys[i]));
    return features.map((f) => {
      const lo = f.windowSeconds === undefined ? undefined : t - BigInt(Math.round(f.windowSeconds * 1e6));
      const inWindow = mine.filter((r) => r.ts! < t && (lo === undefined || r.ts! >= lo));
      if (f.column === '*') return inWindow.length;
      const present = inWindow.filter((r) => r.values[f.column] !== null && r.values[f.column] !== undefined).map((r) => ({ ts: r.ts!, v: r.values[f.column]! }));
      return apply(f, present);
    });
  });
}

function apply(f: AggFeature, xs: { ts: bigint; v: AggValue }[]): AggResult {
  const nums = () => xs.map((x) => Number(x.v));
  const byTime = [...xs].sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : cmp(a.v, b.v)));
  switch (f.function) {
    case 'count':
      return xs.length;
    case 'count_distinct':
    case 'approx_count_distinct':
      return new Set(xs.map((x) => x.v)).size;
    case 'sum':
      return nums().reduce((a, b) => a + b, 0);
    case 'avg':
      return xs.length === 0 ? null : nums().reduce((a, b) => a + b, 0) / xs.length;
    case 'min':
      return xs.length === 0 ? null : xs.map((x) => x.v).reduce((a, b) => (cmp(a, b) <= 0 ? a : b));
    case 'max':
      return xs.length === 0 ? null : xs.map((x) => x.v).reduce((a, b) => (cmp(a, b) >= 0 ? a : b));
    case 'var_pop':
    case 'var_samp':
    case 'stddev_pop':
    case 'stddev_samp': {
      const samp = f.function.endsWith('samp');
      const n = xs.length;
      if (n === 0 || (samp && n < 2)) return null;
      // Two passes: the mean, then squared deviations from it (no cancellation).
      const mean = nums().reduce((a, b) => a + b, 0) / n;
      const m2 = nums().reduce((a, b) => a + (b - mean) ** 2, 0);
      const variance = m2 / (samp ? n - 1 : n);
      return f.function.startsWith('stddev') ? Math.sqrt(variance) : variance;
    }
    case 'first':
      return byTime.length === 0 ? null : byTime[0].v;
    case 'last':
      return byTime.length === 0 ? null : byTime[byTime.length - 1].v;
    case 'first_n':
      return byTime.slice(0, f.n).map((x) => x.v);
    case 'last_n':
      return byTime.slice(Math.max(0, byTime.length - f.n!)).map((x) => x.v);
  }
}
