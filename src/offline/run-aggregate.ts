/**
 * `fsql run` for an aggregate view (SPEC section 9): its events and per-tile relations
 * (dialects/aggregate-tiles.ts). Incremental whenever every relation exists with today's layout:
 * the run replaces events from (newest loaded − lookback) and, where the per-tile relations are
 * tables, the tiles from the one holding that time, so its cost follows the new data; otherwise
 * (first run, --full-refresh, a changed aggregation) everything is rebuilt.
 */
import type { Compilation } from '../compiler/compile.js';
import { renderFullBuild, renderIncrementalRun, tileLayout } from '../dialects/aggregate-tiles.js';
import { PER_ROW_BELOW, PER_ROW_COLUMN, perTileRelations, tileTables, type AggregateRunPlan, type TileTables } from '../plans/aggregate.js';
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

/** A relation as the last build left it: its columns (lower case), or none when it is absent. */
interface Found {
  relation: RelationName;
  columns?: string[];
}

/** The view's events, tiles, and other per-tile relations (distinct values, end rows) as the last build left them. */
export interface Built {
  events: Found;
  tiles: Found;
  others: Found[];
}

/** A per-row view ends with PER_ROW_COLUMN; a table does not. */
const isPerRow = (f: Found) => f.columns?.[f.columns.length - 1] === PER_ROW_COLUMN;

/** The view's relations as the last build left them (one describe each, together). */
export async function findBuilt(wh: Warehouse, t: TileTables): Promise<Built> {
  const find = async (relation: RelationName): Promise<Found> => ({ relation, columns: (await wh.describe(relation))?.map((c) => c.name.toLowerCase()) });
  const [events, tiles, ...others] = await Promise.all([t.events, ...perTileRelations(t)].map(find));
  return { events, tiles, others };
}

/**
 * Whether the per-tile relations are per-row views, when every relation exists with the layout the
 * aggregations need now (an incremental run can follow); else undefined (a full build).
 */
export function builtKind(plan: AggregateRunPlan, b: Built): boolean | undefined {
  if (!b.events.columns || !b.tiles.columns || b.others.some((f) => !f.columns)) return undefined;
  const perRow = isPerRow(b.tiles);
  return b.tiles.columns.join(',') === tileLayout({ ...plan, perRow }).map((c) => c.toLowerCase()).join(',') ? perRow : undefined;
}

/**
 * Runs the plan (`built`: findBuilt's, whose per-tile relations a full build drops first) and
 * returns whether the per-tile relations are per-row views. A full build (dialects/aggregate-tiles.ts
 * renderFullBuild) chooses their kind from how many rows fill each (keys, tile) (PER_ROW_BELOW):
 * views of the events for about one, tables otherwise.
 */
export async function runAggregate(wh: Warehouse, plan: AggregateRunPlan, built: Built, label: string): Promise<boolean> {
  const d = wh.dialect;
  if (plan.range?.start) {
    const { statements, atomic } = renderIncrementalRun(plan, d);
    await wh.execute(statements, { atomic, label });
    return Boolean(plan.perRow);
  }
  const found = [built.tiles, ...built.others].flatMap((f) => (f.columns ? [{ relation: f.relation, perRow: isPerRow(f) }] : []));
  const build = renderFullBuild(plan, found, d);
  await wh.execute(build.before, { label });
  // by position: Snowflake names the columns in upper case
  const [rows, tiles] = Object.values((await wh.query(build.density, { label }))[0] ?? {}).map(Number);
  const perRow = rows < PER_ROW_BELOW * tiles;
  await wh.execute(build.perTile(perRow), { label });
  return perRow;
}
