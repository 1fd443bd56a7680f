/**
 * `fsql run` for an aggregate view (SPEC section 9): its events and per-tile relations
 * (dialects/aggregate-tiles.ts). Incremental whenever every relation exists with today's layout:
 * the run replaces events from (newest loaded − lookback) and the tiles from the one holding that
 * time, so its cost follows the new data; otherwise (first run, --full-refresh, a changed
 * aggregation) everything is rebuilt.
 */
import type { Compilation } from '../compiler/compile.js';
import { perTileRelations, renderAggregateRun, renderEventsBuild, renderPerTileBuild, renderPerTileDrop, renderTileDensity, tileLayout } from '../dialects/aggregate-tiles.js';
import { PER_ROW_BELOW, PER_ROW_COLUMN, tileTables, type AggregateRunPlan } from '../plans/aggregate.js';
import type { RelationName, TimeRange } from '../plans/relation.js';
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

/** A per-tile relation as built: undefined (absent), a per-row view (its last column is PER_ROW_COLUMN) or a table, with its columns. */
async function built(wh: Warehouse, relation: RelationName): Promise<{ perRow: boolean; columns: string[] } | undefined> {
  const columns = (await wh.describe(relation))?.map((c) => c.name.toLowerCase());
  return columns && { perRow: columns[columns.length - 1] === PER_ROW_COLUMN, columns };
}

/**
 * The plan of an incremental run when every relation exists with the layout the aggregations need
 * now (its `perRow` as built), else undefined: a full build.
 */
export async function builtPlan(wh: Warehouse, plan: AggregateRunPlan): Promise<AggregateRunPlan | undefined> {
  const tiles = await built(wh, plan.tables.tiles);
  if (!tiles || tiles.columns.join(',') !== tileLayout({ ...plan, perRow: tiles.perRow }).map((c) => c.toLowerCase()).join(',')) return undefined;
  for (const t of [plan.tables.events, ...perTileRelations(plan)]) {
    if (!(await wh.describe(t))) return undefined;
  }
  return { ...plan, perRow: tiles.perRow };
}

/**
 * Runs the plan. A full build writes the events, then chooses the per-tile relations' kind from
 * how many rows they fill per (keys, tile) (PER_ROW_BELOW): views of the events for about one,
 * tables otherwise. Views built before are dropped first (PostgreSQL drops no table a view
 * depends on, and replaces no view whose columns change), tables only where views replace them.
 */
export async function runAggregate(wh: Warehouse, plan: AggregateRunPlan, label: string): Promise<void> {
  const d = wh.dialect;
  if (plan.range?.start) {
    const { statements, atomic } = renderAggregateRun(plan, d);
    return wh.execute(statements, { atomic, label });
  }
  const before = await Promise.all(perTileRelations(plan).map(async (relation) => ({ relation, built: await built(wh, relation) })));
  const drop = (perRow: boolean) => before.filter((b) => b.built?.perRow === perRow).map((b) => renderPerTileDrop(b.relation, perRow, d));
  await wh.execute([...drop(true), ...renderEventsBuild(plan, d)], { label });
  const [rows, tiles] = Object.values((await wh.query(renderTileDensity(plan, d), { label }))[0] ?? {}).map(Number);
  const perRow = rows < PER_ROW_BELOW * tiles;
  await wh.execute([...(perRow ? drop(false) : []), ...renderPerTileBuild({ ...plan, perRow }, d)], { label });
}
