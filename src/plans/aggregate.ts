/**
 * Time-window aggregations (SPEC section 9) as data: the functions, a feature's definition and the
 * view's tiling. Warehouse-neutral: dialects/aggregate-*.ts render them; test/helpers holds the
 * brute-force statement of the rule they are held to.
 */
import type { DataType, ScalarType, Timestamp } from '../values.js';
import type { RelationName, TimeRange } from './relation.js';
export const AGG_FUNCTIONS = [
  'count',
  'sum',
  'avg',
  'min',
  'max',
  'var_samp',
  'var_pop',
  'stddev_samp',
  'stddev_pop',
  'first',
  'last',
  'first_n',
  'last_n',
  'count_distinct',
  'approx_count_distinct',
] as const;
export type AggFunction = (typeof AGG_FUNCTIONS)[number];

/** Functions whose merge is a scalar partial state per tile (count, sum, (n, mean, M2), min, max, first, last). */
export type ScalarAggFunction = Exclude<AggFunction, 'first_n' | 'last_n' | 'count_distinct' | 'approx_count_distinct'>;

/**
 * The partial-state parts of an input column, in state order: count of non-NULL values, sum,
 * (mean, M2) for the variances, min, max, and (time, value) of the first and last rows.
 */
export type AggPart = 'n' | 's' | 'mean' | 'm2' | 'min' | 'max' | 'fts' | 'fv' | 'lts' | 'lv';
export const STATE_PART_ORDER: readonly AggPart[] = ['n', 's', 'mean', 'm2', 'min', 'max', 'fts', 'fv', 'lts', 'lv'];
/** The parts each scalar function merges (the one table of them: tiles offline, window states online). */
export const SCALAR_PARTS: Partial<Record<AggFunction, readonly AggPart[]>> = {
  count: ['n'],
  sum: ['n', 's'],
  avg: ['n', 's'],
  min: ['n', 'min'],
  max: ['n', 'max'],
  var_samp: ['n', 'mean', 'm2'],
  var_pop: ['n', 'mean', 'm2'],
  stddev_samp: ['n', 'mean', 'm2'],
  stddev_pop: ['n', 'mean', 'm2'],
  first: ['n', 'fts', 'fv'],
  last: ['n', 'lts', 'lv'],
};

/**
 * count_distinct, and approx_count_distinct, which fsql computes exactly with the same distinct
 * values per tile (its error bound is 0; a sketch would trade that exactness for space).
 */
export function countsDistinct(fn: AggFunction): boolean {
  return fn === 'count_distinct' || fn === 'approx_count_distinct';
}

export interface AggFeature {
  /** the feature's name: `<column>_<function>_<window>`, `count_<window>` for `*`, or `name=` */
  name: string;
  function: AggFunction;
  /** the input column, or `*` (count only) */
  column: string;
  /** the window's width in seconds; undefined for `lifetime` */
  windowSeconds?: number;
  /** the window as written (`1h`, `lifetime`): the `{window}` of names */
  window: string;
  /** first_n / last_n: how many values */
  n?: number;
}

export interface AggregateSpec {
  /** the width of a tile in seconds (a whole number of microseconds) */
  tileSeconds: number;
  /** how long after a sync the online state serves every window exactly (config sync_horizon, default 1d) */
  syncHorizonSeconds: number;
  features: AggFeature[];
}

/** Where a feature's window starts relative to the event time t: [t - W, t), or every row before t. */
export function isLifetime(f: Pick<AggFeature, 'windowSeconds'>): boolean {
  return f.windowSeconds === undefined;
}

/** The input columns the features read (not `*`), in first-use order. */
export function inputColumns(spec: AggregateSpec): string[] {
  return [...new Set(spec.features.map((f) => f.column).filter((c) => c !== '*'))];
}

/** A description of a feature for the manifest, `fsql ls` and catalogs. */
export function describeFeature(f: AggFeature): { name: string; function: string; column: string; window: string; window_seconds: number | null; n?: number } {
  return { name: f.name, function: f.function, column: f.column, window: f.window, window_seconds: f.windowSeconds ?? null, ...(f.n !== undefined ? { n: f.n } : {}) };
}

/** The type of a feature's value, given its input column's type. */
export function featureType(f: Pick<AggFeature, 'function'>, input: ScalarType | undefined): DataType {
  switch (f.function) {
    case 'count':
    case 'count_distinct':
    case 'approx_count_distinct':
      return { type: 'int64' };
    case 'avg':
    case 'var_samp':
    case 'var_pop':
    case 'stddev_samp':
    case 'stddev_pop':
      return { type: 'float64' };
    case 'sum':
      return { type: input === 'int64' ? 'int64' : 'float64' };
    case 'min':
    case 'max':
    case 'first':
    case 'last':
      return { type: input ?? 'string' };
    case 'first_n':
    case 'last_n':
      return { type: 'array', elementType: { type: input ?? 'string' } };
  }
}

/** The per-tile tables of an aggregate view, beside its table of events (the view's own name). */
export interface TileTables {
  /** the view's events: its SELECT's rows plus each row's tile index (TILE_COLUMN) */
  events: RelationName;
  /** one row per (keys, tile): count, and per input column count, sum, (n, mean, M2), min, max, first, last */
  tiles: RelationName;
  /** per input column of count_distinct: its distinct values per (keys, tile) */
  distinct: { column: string; table: RelationName }[];
  /** per input column of first_n/last_n: the first `first` and last `last` rows per (keys, tile) by (time, value) */
  ends: { column: string; table: RelationName; first: number; last: number }[];
}

/**
 * How far (relative) two exact computations of a feature may differ as doubles: sums in another
 * order differ in their last bits, and a variance's M2 merged in another order loses more where
 * the variance is small beside the mean.
 */
export function floatTolerance(fn: AggFunction): number {
  return /^(var|stddev)_/.test(fn) ? 1e-6 : 1e-9;
}

/** The tile index column: floor(epoch microseconds / tile microseconds). */
export const TILE_COLUMN = '__fsql_tile';

/**
 * Where a full build finds fewer rows than this per (keys, tile) on average, the per-tile
 * relations are views of the events, one state per row (`AggregateRunPlan.perRow`): tables would
 * hold about as many rows as the events and cost as much to write, for no fewer rows read.
 */
export const PER_ROW_BELOW = 1.5;
/** The last column of a per-row tiles view (the row's time): what tells it from a tiles table. */
export const PER_ROW_COLUMN = 'fsql_row_ts';

/** The start of every per-tile relation's name: the events table's, then `__`. */
export const perTilePrefix = (events: RelationName) => `${events.name}__`;

export function tileTables(spec: AggregateSpec, events: RelationName): TileTables {
  const named = (suffix: string): RelationName => ({ ...events, name: `${perTilePrefix(events)}${suffix}` });
  const columnsOf = (fns: AggFunction[]) => [...new Set(spec.features.filter((f) => fns.includes(f.function)).map((f) => f.column))];
  const most = (column: string, fn: AggFunction) => Math.max(0, ...spec.features.filter((f) => f.column === column && f.function === fn).map((f) => f.n ?? 0));
  return {
    events,
    tiles: named('tiles'),
    distinct: columnsOf(['count_distinct', 'approx_count_distinct']).map((column) => ({ column, table: named(`distinct__${column}`) })),
    ends: columnsOf(['first_n', 'last_n']).map((column) => ({ column, table: named(`ends__${column}`), first: most(column, 'first_n'), last: most(column, 'last_n') })),
  };
}

/** The tiles, distinct-values and end-rows relations. */
export function perTileRelations(t: TileTables): RelationName[] {
  return [t.tiles, ...t.distinct.map((x) => x.table), ...t.ends.map((x) => x.table)];
}

/** Building an aggregate view's tables: all of them, or (incremental) the events from `range.start` and every tile from the one holding it. */
export interface AggregateRunPlan {
  view: string;
  spec: AggregateSpec;
  tables: TileTables;
  keys: string[];
  timestamp: string;
  /** the view's compiled SELECT (the events) */
  select: string;
  /** set for an incremental run: events with timestamp >= start are replaced, tiles from start's tile on rebuilt */
  range?: TimeRange;
  /** the per-tile relations are views of the events, a state per row (PER_ROW_BELOW), which a run never rebuilds */
  perRow?: boolean;
}

/** The tile holding an instant: floor(micros / tile micros). */
export function tileOf(ts: Timestamp, tileSeconds: number): bigint {
  const t = BigInt(Math.round(tileSeconds * 1e6));
  const q = ts.micros / t;
  return ts.micros % t !== 0n && ts.micros < 0n ? q - 1n : q;
}

/** One line for people: `count_1h: count(*) over 1h`, `last_5: last_n(5)(amount) over 7d`. */
export function featureSummary(a: ReturnType<typeof describeFeature>): string {
  return `${a.name}: ${a.function}${a.n !== undefined ? `(${a.n})` : ''}(${a.column}) over ${a.window}`;
}
