import type { Command } from 'commander';
import { CommandFailed, ProjectError } from '../../errors.js';
import { CHECKS, monitorFeatures, type FeatureMonitor } from '../../offline/monitor.js';
import { writeMonitorMetrics } from '../../offline/monitor-metrics.js';
import { MIN_BASELINE_RUNS } from '../../offline/drift.js';
import { collect, loggerFor, print, projectFor, withWarehouse } from '../context.js';

const LIMIT_NAMES = { nullFractionMax: 'null_fraction_max', psiMax: 'psi_max', meanShiftMaxSigma: 'mean_shift_max_sigma', distinctChangeMax: 'distinct_change_max' } as const;

export function register(program: Command): void {
  program
    .command('monitor')
    .description("each feature's newest statistics (recorded by fsql run) against its baseline: null fraction, PSI, mean shift, distinct change; exit 1 on a breach of a monitors: threshold")
    .option('-s, --select <selector>', 'views to check (dbt selection syntax)', collect)
    .option('--output <format>', 'table or json (one JSON object per feature)', 'table')
    .option('--metrics-file <path>', "write each feature's figures in Prometheus' text format (node_exporter's textfile collector)")
    .action(async (flags: { select?: string[]; output: string; metricsFile?: string }, cmd: Command) => {
      if (flags.output !== 'table' && flags.output !== 'json') throw new ProjectError('--output', `must be table or json, not '${flags.output}'.`);
      const project = projectFor(cmd);
      const log = loggerFor(cmd);
      const report = await withWarehouse(project, (wh) => monitorFeatures(project, wh, { select: flags.select }));
      if (flags.metricsFile) writeMonitorMetrics(flags.metricsFile, report);
      if (report.unrecorded.length > 0) log.warn(`no statistics recorded for ${report.unrecorded.join(', ')}: fsql run records them for table and incremental views.`);
      if (flags.output === 'json') for (const f of report.features) print(JSON.stringify(jsonOf(f)));
      else print(table(report.features));
      const thin = report.features.filter((f) => f.status === 'NO_BASELINE');
      if (thin.length > 0) log.warn(`${thin.length} feature(s) with too little baseline (fewer than ${MIN_BASELINE_RUNS} runs in the window): drift not judged for ${thin.map((f) => `${f.view}.${f.feature}`).join(', ')}.`);
      const breaches = report.features.flatMap((f) => f.breaches.map((b) => `${f.view}.${f.feature}: ${b.check} ${figure(b.value)} > ${b.threshold}`));
      if (breaches.length > 0) throw new CommandFailed(`${breaches.length} monitor breach${breaches.length > 1 ? 'es' : ''}: ${breaches.join('; ')}.`);
    });
}

function jsonOf(f: FeatureMonitor): Record<string, unknown> {
  const finite = (v: number | null) => (v === null || Number.isFinite(v) ? v : String(v));
  return {
    view: f.view,
    feature: f.feature,
    run_id: f.runId,
    recorded_at: f.recordedAt.toISOString(),
    baseline_runs: f.figures.baselineRuns,
    null_fraction: finite(f.figures.nullFraction),
    psi: finite(f.figures.psi),
    mean_shift_sigma: finite(f.figures.meanShiftSigma),
    distinct_change: finite(f.figures.distinctChange),
    thresholds: Object.fromEntries(Object.entries(LIMIT_NAMES).map(([k, name]) => [name, f.settings[k as keyof typeof LIMIT_NAMES]])),
    baseline_seconds: f.settings.baselineSeconds,
    status: f.status,
    breaches: f.breaches,
  };
}

function figure(v: number | null): string {
  if (v === null) return '-';
  return Number.isFinite(v) ? v.toFixed(3) : 'inf';
}

function table(features: FeatureMonitor[]): string {
  const head = ['view', 'feature', 'baseline', ...CHECKS.map((c) => c.check), 'status'];
  const rows = features.map((f) => [
    f.view,
    f.feature,
    `${f.figures.baselineRuns} runs`,
    ...CHECKS.map(({ check, figure: key }) => {
      const breach = f.breaches.find((b) => b.check === check);
      return `${figure(f.figures[key] as number | null)}${breach ? ` > ${breach.threshold}` : ''}`;
    }),
    f.status === 'NO_BASELINE' ? `too little baseline (${f.figures.baselineRuns} of ${MIN_BASELINE_RUNS} runs)` : f.status,
  ]);
  if (rows.length === 0) return 'no statistics recorded yet: fsql run records them.';
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [head, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}
