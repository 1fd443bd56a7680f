/**
 * Time-window aggregations (SPEC section 9) as data: the functions, a feature's definition and the
 * view's tiling. Warehouse-neutral: dialects/aggregate-*.ts render them; test/helpers holds the
 * brute-force statement of the rule they are held to.
 */
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
export function featureType(f: AggFeature, input: ScalarLike | undefined): { type: ScalarLike | 'array'; elementType?: ScalarLike } {
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
      return { type: 'array', elementType: input ?? 'string' };
  }
}
type ScalarLike = 'int64' | 'float64' | 'string' | 'boolean' | 'timestamp';
