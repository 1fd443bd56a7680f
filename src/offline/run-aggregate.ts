/**
 * `fsql run` for an aggregate view (SPEC section 9): its events and per-tile tables
 * (dialects/aggregate-tiles.ts). Incremental whenever every table exists with today's layout: the
 * run replaces events from (newest loaded − lookback) and the tiles from the one holding that
 * time, so its cost follows the new data; otherwise (first run, --full-refresh, a changed
 * aggregation) everything is rebuilt.
 */
import type { Compilation } from '../compiler/compile.js';
import { renderAggregateRun, tileLayout } from '../dialects/aggregate-tiles.js';
import { tileTables, type AggregateRunPlan } from '../plans/aggregate.js';
import type { TimeRange } from '../plans/relation.js';
import type { ViewDef } from '../project/types.js';
import type { Warehouse } from '../warehouse/warehouse.js';

export function aggregatePlan(c: Compilation, view: ViewDef, range: TimeRange | undefined): AggregateRunPlan {
  const compiled = c.manifest.views[view.name];
  return {
    view: view.name,
    spec: view.config.aggregate!,
    tables: tileTables(view.config.aggregate!, compiled.table),
    keys: view.joinKeys,
    timestamp: view.config.timestamp,
    select: range ? c.renderer.render({ view, incremental: range }).sql : compiled.compiled_sql,
    range,
  };
}

/** Whether the view's tables exist with the layout its aggregations need now (else: a full build). */
export async function tilesUpToDate(wh: Warehouse, plan: AggregateRunPlan): Promise<boolean> {
  const tiles = await wh.describe(plan.tables.tiles);
  const layout = tileLayout(plan).map((c) => c.toLowerCase());
  if (!tiles || tiles.map((col) => col.name.toLowerCase()).join(',') !== layout.join(',')) return false;
  for (const t of [plan.tables.events, ...plan.tables.distinct.map((x) => x.table), ...plan.tables.ends.map((x) => x.table)]) {
    if (!(await wh.describe(t))) return false;
  }
  return true;
}

export async function runAggregate(wh: Warehouse, plan: AggregateRunPlan, label: string): Promise<void> {
  const { statements, atomic } = renderAggregateRun(plan, wh.dialect);
  await wh.execute(statements, { atomic, label });
}
