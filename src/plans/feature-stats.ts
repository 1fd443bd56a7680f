/**
 * The statistics `fsql run` records for each feature of a view over the rows it just built (SPEC
 * section 11), as data: which view, which rows (the run's time range), which features and of what
 * kind. dialects/feature-stats.ts renders it; offline/feature-stats.ts runs it after a build.
 */
import type { DataType, Timestamp } from '../values.js';
import type { RelationName, TimeRange } from './relation.js';

/** The warehouse table the statistics go to, one row per view, feature and run. */
export const STATS_TABLE = 'fsql_feature_stats';

/** The quantiles recorded, with their columns (p01 = the 1st percentile). */
export const QUANTILES = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99] as const;
export const QUANTILE_COLUMNS = ['p01', 'p05', 'p25', 'p50', 'p75', 'p95', 'p99'] as const;

/** numeric: mean, stddev, min, max and quantiles; string: an approximate distinct count; other (boolean, timestamp, array): counts only. */
export type FeatureKind = 'numeric' | 'string' | 'other';

export interface FeatureStatsPlan {
  view: string;
  /** the view's table, read over `range` */
  table: RelationName;
  timestamp: string;
  /** the rows the run built: an incremental run's range; undefined: the whole table */
  range?: TimeRange;
  features: { name: string; kind: FeatureKind }[];
  statsTable: RelationName;
  runId: string;
  recordedAt: Timestamp;
}

export function featureKind(type: DataType): FeatureKind {
  if (type.type === 'int64' || type.type === 'float64') return 'numeric';
  return type.type === 'string' ? 'string' : 'other';
}

/** One row of fsql_feature_stats, as read back (fields named as the table's columns). */
export interface FeatureStats {
  view_name: string;
  feature: string;
  run_id: string;
  range_start: Timestamp | null;
  range_end: Timestamp | null;
  recorded_at: Timestamp;
  row_count: number;
  null_fraction: number | null;
  mean: number | null;
  stddev: number | null;
  min: number | null;
  max: number | null;
  p01: number | null;
  p05: number | null;
  p25: number | null;
  p50: number | null;
  p75: number | null;
  p95: number | null;
  p99: number | null;
  approx_distinct: number | null;
}
