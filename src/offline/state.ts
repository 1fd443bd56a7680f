/**
 * The applied state of a target (`fsql_state` in its warehouse): read by `fsql plan` and by
 * `--select state:modified`, recorded by `run` and `build` when every view they built succeeded.
 */
import { compileProject, type Compilation } from '../compiler/compile.js';
import { usesState } from '../compiler/select.js';
import type { Logger } from '../log.js';
import { DuckDbParser } from '../compiler/sql-check.js';
import { renderLatestState, renderRecordState } from '../dialects/state.js';
import { diffStates, stateOf, type ProjectState, type ViewChange } from '../plans/state.js';
import type { Project } from '../project/types.js';
import { Timestamp } from '../values.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { runViews, type RunOptions, type RunResults } from './run.js';

export const STATE_TABLE = 'fsql_state';

export async function readState(wh: Warehouse, project: Project): Promise<ProjectState | undefined> {
  const table = wh.dialect.tableIn(project.target, STATE_TABLE);
  if (!(await wh.describe(table))) return undefined;
  const [row] = await wh.query(renderLatestState(wh.dialect, table), { label: STATE_TABLE });
  return row ? (JSON.parse(String(Object.values(row)[0])) as ProjectState) : undefined;
}

/**
 * After a run in which every selected view built: the views built now take their new state (with
 * the column types the run read); the others keep the applied one; a run of the whole project
 * also drops the views that are gone.
 */
export async function recordState(wh: Warehouse, project: Project, c: Compilation, results: RunResults, whole: boolean): Promise<void> {
  if (results.results.some((r) => r.status !== 'success')) return;
  const types = new Map(results.results.map((r) => [r.name, new Map((r.columns ?? []).map((col) => [col.name.toLowerCase(), col.type]))]));
  const desired = stateOf(c.manifest, types);
  const applied = whole ? undefined : await readState(wh, project);
  const built = new Set(results.results.map((r) => r.name));
  const views = { ...(applied?.views ?? {}), ...Object.fromEntries(Object.entries(desired.views).filter(([name]) => whole || built.has(name))) };
  const state: ProjectState = { views, services: desired.services };
  await wh.execute(renderRecordState(wh.dialect, wh.dialect.tableIn(project.target, STATE_TABLE), Timestamp.fromMillis(Date.now()), JSON.stringify(state)), { atomic: false, label: STATE_TABLE });
}

export interface Plan {
  applied: boolean;
  changes: ViewChange[];
  /** services reading a view with a breaking change (or a removed one) */
  affectedServices: string[];
}

/**
 * The project against the target's applied state. On DuckDB a changed SELECT is compared by its
 * parse tree (an added column alone is not a change of logic); elsewhere any other text is.
 */
export async function planChanges(project: Project, wh: Warehouse, c: Compilation): Promise<Plan> {
  const applied = await readState(wh, project);
  const parser = c.renderer.dialect.sqlGrammar === 'duckdb' ? await DuckDbParser.open() : undefined;
  try {
    const sameLogic = async (before: string, after: string, added: string[]) => (parser ? parser.sameQueryApartFrom(before, after, added) : before.trim() === after.trim());
    const changes = await diffStates(applied, stateOf(c.manifest), sameLogic);
    const breaking = new Set(changes.filter((ch) => ch.breaking).map((ch) => ch.view));
    const affectedServices = Object.entries(c.manifest.services)
      .filter(([, s]) => s.features.some((f) => breaking.has(f.view)))
      .map(([name]) => name);
    return { applied: applied !== undefined, changes, affectedServices };
  } finally {
    parser?.close();
  }
}

/** The views `state:modified` selects: new or changed since the applied state. */
export function modifiedViews(plan: Plan): Set<string> {
  return new Set(plan.changes.filter((ch) => ch.kind === 'new' || ch.kind === 'changed').map((ch) => ch.view));
}

/**
 * `run` and `build` with the target's applied state: `state:modified` resolved against it first,
 * the new state recorded after a run in which every view built.
 */
export async function runApplying(project: Project, wh: Warehouse, log: Logger, opts: RunOptions): Promise<RunResults> {
  const c = await compileProject(project, { write: true });
  const modified = usesState(opts.select, opts.exclude) ? modifiedViews(await planChanges(project, wh, c)) : undefined;
  const results = await runViews(project, wh, log, { ...opts, compilation: c, modified });
  await recordState(wh, project, c, results, !opts.select?.length && !opts.exclude?.length);
  return results;
}
