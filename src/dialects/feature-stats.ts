/**
 * SQL for fsql_feature_stats. A run's statistics are one INSERT that reads the view's new rows
 * once: a single-row aggregate over the range (every feature's counts, moments, quantile sketches
 * and distinct estimates side by side), cross joined with one literal row per feature, each of
 * which picks its own feature's figures with CASE. The table is created on first use, typed by
 * an empty SELECT, like fsql_state.
 */
import { QUANTILE_COLUMNS, QUANTILES, type FeatureStatsPlan } from '../plans/feature-stats.js';
import type { RelationName } from '../plans/relation.js';
import type { Timestamp } from '../values.js';
import type { Dialect } from './dialect.js';

const MOMENTS = ['mean', 'stddev', 'min', 'max'] as const;
export const STATS_COLUMNS = ['view_name', 'feature', 'run_id', 'range_start', 'range_end', 'recorded_at', 'row_count', 'null_fraction', ...MOMENTS, ...QUANTILE_COLUMNS, 'approx_distinct'] as const;
type StatsColumn = (typeof STATS_COLUMNS)[number];

/** The statements that record `plan`'s statistics (none for a view without features). */
export function renderFeatureStats(plan: FeatureStatsPlan, d: Dialect): string[] {
  if (plan.features.length === 0) return [];
  return [createStatsTable(d, plan.statsTable), `insert into ${d.relation(plan.statsTable)} (${STATS_COLUMNS.map((c) => d.quoteIdent(c)).join(', ')})\n${renderStatsSelect(plan, d)}`];
}

/** The statistics rows of `plan`, one per feature, as a SELECT (for a plan with features). */
export function renderStatsSelect(plan: FeatureStatsPlan, d: Dialect): string {
  const q = (c: string) => d.quoteIdent(c);
  const f = (i: number, stat: string) => `s.${q(`f${i}_${stat}`)}`;
  const aggregates = [`count(*) as ${q('n')}`];
  const pick = new Map<StatsColumn, (string | undefined)[]>(STATS_COLUMNS.map((c) => [c, []]));
  plan.features.forEach((feature, i) => {
    const x = q(feature.name);
    aggregates.push(`count(${x}) as ${q(`f${i}_count`)}`);
    pick.get('feature')!.push(d.stringLiteral(feature.name));
    pick.get('null_fraction')!.push(d.safeDivide(`s.${q('n')} - ${f(i, 'count')}`, `s.${q('n')}`));
    if (feature.kind === 'numeric') {
      const xf = d.castTo(x, 'float64');
      aggregates.push(`avg(${xf}) as ${q(`f${i}_mean`)}`, `stddev_samp(${xf}) as ${q(`f${i}_stddev`)}`, `min(${xf}) as ${q(`f${i}_min`)}`, `max(${xf}) as ${q(`f${i}_max`)}`);
      for (const m of MOMENTS) pick.get(m)!.push(f(i, m));
      const sketches = d.quantileAggregates(xf, QUANTILES).map((agg, k) => {
        aggregates.push(`${agg} as ${q(`f${i}_q${k}`)}`);
        return f(i, `q${k}`);
      });
      QUANTILE_COLUMNS.forEach((c, k) => pick.get(c)!.push(d.quantileAt(sketches, QUANTILES, k)));
    } else if (feature.kind === 'string') {
      aggregates.push(`${d.approxDistinct(x)} as ${q(`f${i}_distinct`)}`);
      pick.get('approx_distinct')!.push(f(i, 'distinct'));
    }
    for (const list of pick.values()) list.length = i + 1;
  });
  const ts = q(plan.timestamp);
  const whole: Partial<Record<StatsColumn, string>> = {
    view_name: d.stringLiteral(plan.view),
    run_id: d.stringLiteral(plan.runId),
    range_start: plan.range?.start ? d.timestampLiteral(plan.range.start) : 'null',
    range_end: plan.range?.end ? d.timestampLiteral(plan.range.end) : 'null',
    recorded_at: d.timestampLiteral(plan.recordedAt),
    row_count: `s.${q('n')}`,
  };
  const value = (c: StatsColumn) => {
    if (whole[c] !== undefined) return whole[c]!;
    const arms = pick.get(c)!.flatMap((expr, i) => (expr === undefined ? [] : [`when ${i} then ${expr}`]));
    return arms.length === 0 ? 'null' : `case k.${q('i')} ${arms.join(' ')} end`;
  };
  const indexes = plan.features.map((_, i) => `select ${i} as ${q('i')}`).join(' union all ');
  return [
    `select ${STATS_COLUMNS.map((c) => `${typed(d, c, value(c))} as ${q(c)}`).join(',\n  ')}`,
    `from (\n  select ${aggregates.join(',\n    ')}\n  from ${d.relation(plan.table)}\n  where ${d.rangeCondition(ts, plan.range ?? {})}\n) as s`,
    `cross join (${indexes}) as k`,
  ].join('\n');
}

/** `expr` cast to the column's type. */
function typed(d: Dialect, c: StatsColumn, expr: string): string {
  if (c === 'view_name' || c === 'feature' || c === 'run_id') return d.castTo(expr, 'string');
  if (c === 'range_start' || c === 'range_end' || c === 'recorded_at') return d.castTo(expr, 'timestamp');
  return d.castTo(expr, c === 'row_count' || c === 'approx_distinct' ? 'int64' : 'float64');
}

function createStatsTable(d: Dialect, table: RelationName): string {
  const row = STATS_COLUMNS.map((c) => `${typed(d, c, 'null')} as ${d.quoteIdent(c)}`).join(', ');
  return `create table if not exists ${d.relation(table)} as\nselect * from (select ${row}) as fsql_empty where 1 = 0`;
}

/** The newest recorded_at per view (`newest`), for views with statistics. */
export function renderNewestStats(d: Dialect, table: RelationName, views: string[]): string {
  const q = (c: string) => d.quoteIdent(c);
  return `select ${q('view_name')}, max(${q('recorded_at')}) as ${q('newest')} from ${d.relation(table)} where ${q('view_name')} in (${views.map((v) => d.stringLiteral(v)).join(', ')}) group by ${q('view_name')}`;
}

/** A view's statistics recorded from `since` on, oldest first (runs recorded at one instant in run_id order). */
export function renderStatsSince(d: Dialect, table: RelationName, view: string, since: Timestamp): string {
  const q = (c: string) => d.quoteIdent(c);
  return `select ${STATS_COLUMNS.map(q).join(', ')} from ${d.relation(table)} where ${q('view_name')} = ${d.stringLiteral(view)} and ${q('recorded_at')} >= ${d.timestampLiteral(since)} order by ${q('recorded_at')}, ${q('run_id')}, ${q('feature')}`;
}

/** One row per (view_name, feature): the one recorded last (ties: the greatest run_id); for the docs site. */
export function renderLatestFeatureStats(d: Dialect, table: RelationName): string {
  const q = (c: string) => d.quoteIdent(c);
  const columns = STATS_COLUMNS.map(q);
  return [
    `select ${columns.join(', ')} from (`,
    `  select ${columns.join(', ')}, row_number() over (partition by ${q('view_name')}, ${q('feature')} order by ${q('recorded_at')} desc, ${q('run_id')} desc) as fsql_rank`,
    `  from ${d.relation(table)}`,
    `) as fsql_latest_stats where fsql_rank = 1`,
  ].join('\n');
}
