/**
 * `fsql monitor --metrics-file F`: each feature's drift figures and breaches in Prometheus' text
 * format (node_exporter's textfile collector), written atomically; the README's drift alert reads
 * these names.
 */
import { renderValues, type Gauge, type MetricHelp } from '../prometheus-text.js';
import { writeMetricsText } from './metrics-file.js';
import { CHECKS, type MonitorReport } from './monitor.js';

export const MONITOR_HELP: MetricHelp[] = [
  { name: 'fsql_monitor_last_run_timestamp_seconds', type: 'gauge', help: 'When fsql monitor last compared the statistics (Unix seconds).' },
  { name: 'fsql_monitor_stats_recorded_timestamp_seconds', type: 'gauge', help: "When the feature's newest statistics were recorded by fsql run (Unix seconds)." },
  { name: 'fsql_monitor_baseline_runs', type: 'gauge', help: "Runs in the feature's baseline window (drift is judged from 3)." },
  { name: 'fsql_monitor_null_fraction', type: 'gauge', help: "The feature's share of NULL values in its newest statistics." },
  { name: 'fsql_monitor_psi', type: 'gauge', help: "Population stability index of the feature's newest statistics over its baseline's quantile bins." },
  { name: 'fsql_monitor_mean_shift_sigma', type: 'gauge', help: "How far the feature's newest mean lies from its baseline's, in baseline standard deviations." },
  { name: 'fsql_monitor_distinct_change', type: 'gauge', help: "Change of a string feature's approximate distinct count, as a fraction of its baseline's." },
  { name: 'fsql_monitor_breach', type: 'gauge', help: 'Whether the check of the feature is past its monitor threshold (1) or not (0), for every configured check with a figure.' },
];

export function writeMonitorMetrics(path: string, report: MonitorReport, now = Date.now()): void {
  const values: Gauge[] = [{ name: 'fsql_monitor_last_run_timestamp_seconds', labels: {}, value: now / 1000 }];
  for (const f of report.features) {
    const labels = { view: f.view, feature: f.feature };
    values.push({ name: 'fsql_monitor_stats_recorded_timestamp_seconds', labels, value: Number(f.recordedAt.micros) / 1e6 });
    values.push({ name: 'fsql_monitor_baseline_runs', labels, value: f.figures.baselineRuns });
    for (const { check, figure, limit } of CHECKS) {
      const value = f.figures[figure];
      if (typeof value !== 'number') continue;
      values.push({ name: `fsql_monitor_${check}`, labels, value });
      if (f.settings[limit] !== null) values.push({ name: 'fsql_monitor_breach', labels: { ...labels, check }, value: f.breaches.some((b) => b.check === check) ? 1 : 0 });
    }
  }
  writeMetricsText(path, renderValues(MONITOR_HELP, values));
}
