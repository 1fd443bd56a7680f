/**
 * Records the statistics of a view's features over the rows a run just built (SPEC section 11):
 * one pass over the run's range of the view's table, after the build (dialects/feature-stats.ts).
 */
import { featuresOf } from '../compiler/compile.js';
import { FsqlError } from '../errors.js';
import { renderFeatureStats } from '../dialects/feature-stats.js';
import { featureKind, STATS_TABLE, type FeatureStatsPlan } from '../plans/feature-stats.js';
import type { RelationName, TimeRange } from '../plans/relation.js';
import type { Project, ViewDef } from '../project/types.js';
import type { Column, Timestamp } from '../values.js';
import type { Warehouse } from '../warehouse/warehouse.js';

export interface StatsRun {
  runId: string;
  recordedAt: Timestamp;
}

/** A run's making sure the statistics table exists: its first view to record starts it, the others wait for it (asking again would cost a BigQuery job each). */
export interface StatsTable {
  created?: Promise<unknown>;
}

/** fsql_feature_stats of the target, beside fsql_state. */
export function statsTableOf(wh: Warehouse, project: Project): RelationName {
  return wh.dialect.tableIn(project.target, STATS_TABLE);
}

/** The plan for `view`'s table as built (`columns`, described after the build): every column but keys and times is a feature. */
export function featureStatsPlan(view: ViewDef, table: RelationName, columns: Column[], range: TimeRange | undefined, run: StatsRun, statsTable: RelationName): FeatureStatsPlan {
  const features = new Set(featuresOf(view, columns.map((c) => c.name)));
  const timestamp = columns.find((c) => c.name.toLowerCase() === view.config.timestamp.toLowerCase())?.name ?? view.config.timestamp;
  return {
    view: view.name,
    table,
    timestamp,
    range,
    features: columns.filter((c) => features.has(c.name)).map((c) => ({ name: c.name, kind: featureKind(c.type) })),
    statsTable,
    runId: run.runId,
    recordedAt: run.recordedAt,
  };
}

/**
 * Runs `plan`. A failure does not fail the view, whose table is built: it comes back as a warning
 * (`fsql monitor` then finds no statistics of this run, and says so).
 */
export async function recordFeatureStats(wh: Warehouse, plan: FeatureStatsPlan, label: string, table: StatsTable = {}): Promise<string | undefined> {
  const [create, insert] = renderFeatureStats(plan, wh.dialect);
  if (!insert) return undefined;
  try {
    await (table.created ??= wh.execute([create], { atomic: false, label }));
    await wh.execute([insert], { atomic: false, label });
    return undefined;
  } catch (e) {
    if (!(e instanceof FsqlError)) throw e;
    return `feature statistics not recorded in ${plan.statsTable.name}: ${e.message}`;
  }
}
