/** SQL that reads `fsql_feature_stats` (SPEC section 11): the newest statistics row of each (view, feature). */
import type { RelationName } from '../plans/relation.js';
import type { Dialect } from './dialect.js';

/** The statistics columns read back, in the table's own names. */
export const FEATURE_STAT_COLUMNS = ['row_count', 'null_fraction', 'mean', 'stddev', 'min', 'max', 'p01', 'p05', 'p25', 'p50', 'p75', 'p95', 'p99', 'approx_distinct'] as const;

/** One row per (view_name, feature): the one recorded last (ties: the greatest run_id). */
export function renderLatestFeatureStats(d: Dialect, table: RelationName): string {
  const q = (c: string) => d.quoteIdent(c);
  const columns = ['view_name', 'feature', 'run_id', 'range_start', 'range_end', 'recorded_at', ...FEATURE_STAT_COLUMNS].map(q);
  return [
    `select ${columns.join(', ')} from (`,
    `  select ${columns.join(', ')}, row_number() over (partition by ${q('view_name')}, ${q('feature')} order by ${q('recorded_at')} desc, ${q('run_id')} desc) as fsql_rank`,
    `  from ${d.relation(table)}`,
    `) as fsql_latest_stats where fsql_rank = 1`,
  ].join('\n');
}
