/**
 * `fsql monitor` (SPEC section 11): each selected view's newest recorded statistics, feature by
 * feature, against the feature's baseline (offline/drift.ts) and its monitors (column over view
 * over fsql_project.yml over the defaults below). A feature with too little baseline is reported
 * as such; its null fraction is still checked (that needs none).
 */
import { compileProject } from '../compiler/compile.js';
import { selectViews } from '../compiler/select.js';
import { renderNewestStats, renderStatsSince } from '../dialects/feature-stats.js';
import type { FeatureStats } from '../plans/feature-stats.js';
import type { MonitorConfig, Project, ViewDef } from '../project/types.js';
import { Timestamp, type Row } from '../values.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { driftFigures, MIN_BASELINE_RUNS, type DriftFigures } from './drift.js';
import { statsTableOf } from './feature-stats.js';

export type MonitorSettings = { [K in keyof MonitorConfig]-?: Exclude<MonitorConfig[K], undefined> };

/** Without any monitors: block, drift is checked at common alarm levels; null fraction and distinct change only where configured. */
export const DEFAULT_MONITORS: MonitorSettings = { nullFractionMax: null, psiMax: 0.2, meanShiftMaxSigma: 3, distinctChangeMax: null, baselineSeconds: 7 * 86400 };

export type CheckName = 'null_fraction' | 'psi' | 'mean_shift_sigma' | 'distinct_change';
export const CHECKS: { check: CheckName; figure: keyof DriftFigures; limit: keyof MonitorSettings }[] = [
  { check: 'null_fraction', figure: 'nullFraction', limit: 'nullFractionMax' },
  { check: 'psi', figure: 'psi', limit: 'psiMax' },
  { check: 'mean_shift_sigma', figure: 'meanShiftSigma', limit: 'meanShiftMaxSigma' },
  { check: 'distinct_change', figure: 'distinctChange', limit: 'distinctChangeMax' },
];

export interface Breach {
  check: CheckName;
  value: number;
  threshold: number;
}

export interface FeatureMonitor {
  view: string;
  feature: string;
  runId: string;
  recordedAt: Timestamp;
  settings: MonitorSettings;
  figures: DriftFigures;
  /** NO_BASELINE: fewer than MIN_BASELINE_RUNS baseline runs (and no null fraction breach) */
  status: 'OK' | 'BREACH' | 'NO_BASELINE';
  breaches: Breach[];
}

export interface MonitorReport {
  features: FeatureMonitor[];
  /** selected views with no statistics recorded (never run, a SQL view, or an aggregate view) */
  unrecorded: string[];
}

export async function monitorFeatures(project: Project, wh: Warehouse, opts: { select?: string[] } = {}): Promise<MonitorReport> {
  const c = await compileProject(project);
  const views = selectViews(project.views, c.dag, opts.select);
  const table = statsTableOf(wh, project);
  if (views.length === 0 || !(await wh.describe(table))) return { features: [], unrecorded: views };
  const newest = new Map((await wh.query(renderNewestStats(wh.dialect, table, views), { label: table.name })).map((r) => {
    const row = lowerKeys(r);
    return [String(row.view_name), row.newest as Timestamp];
  }));
  const features: FeatureMonitor[] = [];
  for (const name of views.filter((v) => newest.has(v))) {
    const view = project.views.get(name)!;
    const longest = Math.max(settingsFor(project, view).baselineSeconds, ...view.columns.map((col) => settingsFor(project, view, col.name).baselineSeconds));
    const rows = (await wh.query(renderStatsSince(wh.dialect, table, name, newest.get(name)!.plusSeconds(-longest)), { label: table.name })).map(statsRow);
    features.push(...monitorView(project, view, rows));
  }
  return { features, unrecorded: views.filter((v) => !newest.has(v)) };
}

/** The newest run's features of one view against the earlier rows within each one's baseline. */
function monitorView(project: Project, view: ViewDef, rows: FeatureStats[]): FeatureMonitor[] {
  const last = rows[rows.length - 1];
  return rows
    .filter((r) => r.run_id === last.run_id)
    .map((now) => {
      const settings = settingsFor(project, view, now.feature);
      const since = now.recorded_at.plusSeconds(-settings.baselineSeconds).micros;
      const baseline = rows.filter((r) => r.feature === now.feature && r.run_id !== now.run_id && r.recorded_at.micros >= since && r.recorded_at.micros <= now.recorded_at.micros);
      const figures = driftFigures(now, baseline);
      const breaches: Breach[] = [];
      for (const { check, figure, limit } of CHECKS) {
        const value = figures[figure];
        const threshold = settings[limit];
        if (typeof value === 'number' && threshold !== null && value > threshold) breaches.push({ check, value, threshold });
      }
      const status = breaches.length > 0 ? 'BREACH' : figures.baselineRuns < MIN_BASELINE_RUNS ? 'NO_BASELINE' : 'OK';
      return { view: view.name, feature: now.feature, runId: now.run_id, recordedAt: now.recorded_at, settings, figures, status, breaches };
    });
}

function settingsFor(project: Project, view: ViewDef, feature?: string): MonitorSettings {
  const column = feature === undefined ? undefined : view.columns.find((col) => col.name.toLowerCase() === feature.toLowerCase());
  const out: MonitorSettings = { ...DEFAULT_MONITORS };
  for (const config of [project.monitors, view.monitors, column?.monitors]) {
    for (const [k, v] of Object.entries(config ?? {})) if (v !== undefined) Object.assign(out, { [k]: v });
  }
  return out;
}

/** Warehouses that fold unquoted names to upper case (Snowflake) name result columns so. */
function lowerKeys(row: Row): Row {
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k.toLowerCase(), v]));
}

function statsRow(r: Row): FeatureStats {
  const row = lowerKeys(r);
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  const ts = (v: unknown) => (v instanceof Timestamp ? v : null);
  return {
    view_name: String(row.view_name),
    feature: String(row.feature),
    run_id: String(row.run_id),
    range_start: ts(row.range_start),
    range_end: ts(row.range_end),
    recorded_at: row.recorded_at as Timestamp,
    row_count: Number(row.row_count),
    null_fraction: num(row.null_fraction),
    mean: num(row.mean),
    stddev: num(row.stddev),
    min: num(row.min),
    max: num(row.max),
    p01: num(row.p01),
    p05: num(row.p05),
    p25: num(row.p25),
    p50: num(row.p50),
    p75: num(row.p75),
    p95: num(row.p95),
    p99: num(row.p99),
    approx_distinct: num(row.approx_distinct),
  };
}
