/**
 * The figures `fsql monitor` compares (SPEC section 11), from rows of fsql_feature_stats alone:
 * the newest run of a feature against its baseline (the runs recorded within the baseline window
 * before it). Pure functions; offline/monitor.ts reads the rows and applies the thresholds.
 *
 * - null fraction: the newest run's, against `null_fraction_max` (needs no baseline).
 * - mean shift: |newest mean − baseline mean| / baseline standard deviation, the baseline pooled
 *   over its runs (each run weighted by its non-NULL values; between-run spread included).
 * - PSI: the bins are cut at the baseline's quantiles (p01 … p99, each the weighted mean over its
 *   runs), so the baseline expects 1%, 4%, 20%, 25%, 25%, 20%, 4%, 1% in them; the newest run's
 *   share of each bin is read from its own quantiles (its distribution function interpolated
 *   linearly between min, p01 … p99 and max). Σ (actual − expected) · ln(actual / expected), each
 *   share at least 0.0001. Tied quantiles (discrete values) merge their bins.
 * - distinct change (strings): |newest approx_distinct − baseline mean| / baseline mean. A category
 *   that disappears from five is a change of 0.2. Row counts do not enter it, so leave it off for
 *   identifier-like strings whose distinct count grows with the rows.
 */
import { QUANTILE_COLUMNS, QUANTILES, type FeatureStats } from '../plans/feature-stats.js';

/** Fewer baseline runs than this: the feature's drift is not judged ("too little baseline"). */
export const MIN_BASELINE_RUNS = 3;
const FLOOR = 1e-4;

export interface DriftFigures {
  /** baseline runs with values */
  baselineRuns: number;
  nullFraction: number | null;
  meanShiftSigma: number | null;
  psi: number | null;
  distinctChange: number | null;
}

const nonNull = (s: FeatureStats) => s.row_count * (1 - (s.null_fraction ?? 0));

/** What a row's figures say of its feature (an all-NULL run of a numeric feature has no mean, and counts as neither). */
const kindOf = (s: FeatureStats) => (s.mean !== null ? 'numeric' : s.approx_distinct !== null ? 'string' : 'other');

export function driftFigures(newest: FeatureStats, baseline: FeatureStats[]): DriftFigures {
  const kind = kindOf(newest);
  const base = baseline.filter((s) => nonNull(s) > 0 && kindOf(s) === kind);
  const figures: DriftFigures = { baselineRuns: base.length, nullFraction: newest.null_fraction, meanShiftSigma: null, psi: null, distinctChange: null };
  if (base.length < MIN_BASELINE_RUNS) return figures;
  if (kind === 'numeric') {
    figures.meanShiftSigma = meanShift(newest, base);
    figures.psi = psi(newest, base);
  } else if (kind === 'string') {
    const mean = base.reduce((sum, s) => sum + s.approx_distinct!, 0) / base.length;
    figures.distinctChange = mean === 0 ? (newest.approx_distinct === 0 ? 0 : Infinity) : Math.abs(newest.approx_distinct! - mean) / mean;
  }
  return figures;
}

function meanShift(newest: FeatureStats, base: FeatureStats[]): number | null {
  if (newest.mean === null) return null;
  const n = base.reduce((sum, s) => sum + nonNull(s), 0);
  const mean = base.reduce((sum, s) => sum + nonNull(s) * s.mean!, 0) / n;
  const squares = base.reduce((sum, s) => sum + (nonNull(s) - 1) * (s.stddev ?? 0) ** 2 + nonNull(s) * (s.mean! - mean) ** 2, 0);
  const sd = n > 1 ? Math.sqrt(squares / (n - 1)) : 0;
  const shift = Math.abs(newest.mean - mean);
  return sd === 0 ? (shift === 0 ? 0 : Infinity) : shift / sd;
}

/** A run's distribution as (value, cumulative share) points: min, p01 … p99, max. */
function points(s: Pick<FeatureStats, 'min' | 'max' | (typeof QUANTILE_COLUMNS)[number]>): [number, number][] | undefined {
  const values = [s.min, ...QUANTILE_COLUMNS.map((c) => s[c]), s.max];
  if (values.some((v) => v === null)) return undefined;
  return values.map((v, i) => [v!, i === 0 ? 0 : i === values.length - 1 ? 1 : QUANTILES[i - 1]]);
}

/** The share of values at or below `x`: right-continuous, linear between points. */
function cdf(pts: [number, number][], x: number): number {
  if (x < pts[0][0]) return 0;
  let j = 0;
  while (j + 1 < pts.length && pts[j + 1][0] <= x) j++;
  if (j === pts.length - 1) return 1;
  const [v0, p0] = pts[j];
  const [v1, p1] = pts[j + 1];
  return p0 + ((p1 - p0) * (x - v0)) / (v1 - v0);
}

function psi(newest: FeatureStats, base: FeatureStats[]): number | null {
  const now = points(newest);
  const runs = base.filter((s) => points(s) !== undefined);
  if (!now || runs.length === 0) return null;
  const weight = runs.reduce((sum, s) => sum + nonNull(s), 0);
  const pooled = Object.fromEntries(QUANTILE_COLUMNS.map((c) => [c, runs.reduce((sum, s) => sum + nonNull(s) * s[c]!, 0) / weight])) as Record<(typeof QUANTILE_COLUMNS)[number], number>;
  const basePoints = points({ ...pooled, min: Math.min(...runs.map((s) => s.min!)), max: Math.max(...runs.map((s) => s.max!)) })!;
  const edges = [...new Set(QUANTILE_COLUMNS.map((c) => pooled[c]))].sort((a, b) => a - b);
  let total = 0;
  let [expectedBelow, actualBelow] = [0, 0];
  for (const edge of [...edges, Infinity]) {
    const [e, a] = edge === Infinity ? [1, 1] : [cdf(basePoints, edge), cdf(now, edge)];
    const expected = Math.max(e - expectedBelow, FLOOR);
    const actual = Math.max(a - actualBelow, FLOOR);
    total += (actual - expected) * Math.log(actual / expected);
    [expectedBelow, actualBelow] = [e, a];
  }
  return total;
}
