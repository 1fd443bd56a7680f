/**
 * The online state of an aggregate view (SPEC section 9, "Online") as data: what `fsql sync` stores
 * per entity so the server can compute every window exactly at any request time r in [s, s + H]
 * (s the sync time, H the view's sync_horizon).
 *
 * Per window W (index g of `windows`), the rows with ts in [s - W + H, s) stay inside the window
 * for every such r: they are stored merged, as one partial state per window ("C"). The rows that
 * can enter or leave a window during the horizon are stored raw, once for all windows: those in
 * [s - W, min(s - W + H, s)) of each window, and every row in [s, s + H). A lifetime window's C is
 * every row before s. The warehouse computes C (dialects/aggregate-online.ts); the server merges
 * C with the raw rows in the window at r (online/aggregate/).
 */
import type { ScalarType, Timestamp } from '../values.js';
import { countsDistinct, SCALAR_PARTS, STATE_PART_ORDER, type AggFunction, type AggPart } from './aggregate.js';
import type { RelationName } from './relation.js';

/** A feature as the online state needs it (a subset of AggFeature, stored in the view's layout). */
export interface OnlineAggFeature {
  name: string;
  function: AggFunction;
  column: string;
  windowSeconds?: number;
  n?: number;
}

/** The merged-state parts of one input column in one window: count of non-NULL values, sum, (mean, M2), min, max (first and last are ranked lists of their own). */
export type StatePart = Extract<AggPart, 'n' | 's' | 'mean' | 'm2' | 'min' | 'max'>;
const MERGED: ReadonlySet<AggPart> = new Set<AggPart>(['n', 's', 'mean', 'm2', 'min', 'max']);

/** A merged part's type for an input column of type `input`: counts int64, sums as sum's feature (int64 or float64), moments float64, min and max the input's. */
export function partType(p: StatePart, input: ScalarType): ScalarType {
  switch (p) {
    case 'n':
      return 'int64';
    case 's':
      return input === 'int64' ? 'int64' : 'float64';
    case 'mean':
    case 'm2':
      return 'float64';
    case 'min':
    case 'max':
      return input;
  }
}

export interface WindowShape {
  /** the width in seconds; undefined for lifetime */
  seconds?: number;
  /** count('*') is read in this window */
  rows: boolean;
  /** per input column (index into `inputs`): its merged parts, in PART_ORDER (empty: none) */
  parts: StatePart[][];
  /** input columns whose distinct values C keeps (count_distinct) */
  distinct: number[];
  /** per input column, how many of C's earliest rows (by time, value) it keeps (first, first_n); 0: none */
  first: number[];
  /** the same for the latest rows (last, last_n) */
  last: number[];
}

export interface StateShape {
  /** the input columns the features read, in first-use order */
  inputs: string[];
  windows: WindowShape[];
}

/** The state's shape for a view's features: one entry per distinct window, in first-use order. */
export function stateShape(features: readonly OnlineAggFeature[]): StateShape {
  const inputs = [...new Set(features.map((f) => f.column).filter((c) => c !== '*'))];
  const widths = [...new Set(features.map((f) => f.windowSeconds))];
  const windows = widths.map((seconds): WindowShape => {
    const mine = features.filter((f) => f.windowSeconds === seconds);
    const most = (i: number, fns: AggFunction[]) => Math.max(0, ...mine.filter((f) => f.column === inputs[i] && fns.includes(f.function)).map((f) => f.n ?? 1));
    return {
      ...(seconds === undefined ? {} : { seconds }),
      rows: mine.some((f) => f.column === '*'),
      parts: inputs.map((c) => {
        const parts = new Set(mine.filter((f) => f.column === c).flatMap((f): readonly AggPart[] => SCALAR_PARTS[f.function] ?? ['n']));
        return STATE_PART_ORDER.filter((p): p is StatePart => parts.has(p) && MERGED.has(p));
      }),
      distinct: inputs.flatMap((c, i) => (mine.some((f) => f.column === c && countsDistinct(f.function)) ? [i] : [])),
      first: inputs.map((_c, i) => most(i, ['first', 'first_n'])),
      last: inputs.map((_c, i) => most(i, ['last', 'last_n'])),
    };
  });
  return { inputs, windows };
}

/** The index of a feature's window in `shape.windows`. */
export function windowIndex(shape: StateShape, f: Pick<OnlineAggFeature, 'windowSeconds'>): number {
  return shape.windows.findIndex((w) => w.seconds === f.windowSeconds);
}

/** What a sync of an aggregate view reads: its events table, at sync time `at`, for a horizon. */
export interface AggregateSyncPlan {
  view: string;
  /** the view's events (its SELECT's rows, built by fsql run) */
  events: RelationName;
  keys: string[];
  timestamp: string;
  shape: StateShape;
  /** the input columns' types, in shape.inputs order */
  inputTypes: ScalarType[];
  at: Timestamp;
  horizonSeconds: number;
}

/**
 * The rows of the sync query, ordered by the entity's keys: each row is one `kind`. STATE: the
 * merged parts of every window and C's distinct values as lists (at most one per entity); RAW: an
 * input row the horizon needs; FIRST / LAST: one of C's earliest / latest rows of column `c` in window `w`.
 */
export const ROW_KIND = { STATE: 0, RAW: 1, FIRST: 2, LAST: 3 } as const;

/** Column names of the sync query besides the keys. */
export const SYNC_COLUMNS = {
  kind: 'fsql_kind',
  window: 'fsql_w',
  column: 'fsql_c',
  ts: 'fsql_ts',
  input: (i: number) => `fsql_v_${i}`,
  rows: (g: number) => `fsql_rows_${g}`,
  part: (p: StatePart, g: number, i: number) => `fsql_${p}_${g}_${i}`,
  /** C's distinct values of input column i in window g, as a list */
  distinct: (g: number, i: number) => `fsql_d_${g}_${i}`,
};

/**
 * How much earlier than its wall clock a sync dates its states. A state is served only from its
 * sync time on (servedRows), so a server whose clock lags the sync's would answer MISSING_DATA
 * right after each sync; dating the state a minute earlier costs nothing in exactness (the rows
 * after it are kept raw) and a minute of horizon.
 */
export const SYNC_CLOCK_MARGIN_MS = 60_000;
