/**
 * `--metrics-file F` of `run` and `sync` (`monitor`'s figures: offline/monitor-metrics.ts): the command's figures per view in Prometheus' text
 * format, for node_exporter's textfile collector (cron jobs have no /metrics to scrape). Written
 * to a temporary file and renamed, so a scrape never sees half a file. Two families carry over
 * from the file a previous run left: the last success time of a view that failed this time (an
 * alert on staleness must not reset when a run fails), and the failure counters.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { ProjectError } from '../errors.js';
import { renderValues, seriesKey, type Gauge, type MetricHelp } from '../prometheus-text.js';

export interface ViewOutcome {
  view: string;
  ok: boolean;
  seconds: number;
  /** rows read or written, where the command counts them */
  rows?: number;
}

const HELP: Record<'run' | 'sync', MetricHelp[]> = {
  run: [
    { name: 'fsql_run_last_success_timestamp_seconds', type: 'gauge', help: 'When fsql run last built the feature view successfully (Unix seconds).' },
    { name: 'fsql_run_duration_seconds', type: 'gauge', help: "Seconds the feature view's build took in the last fsql run." },
    { name: 'fsql_run_success', type: 'gauge', help: 'Whether the last fsql run built the feature view (1) or not (0).' },
    { name: 'fsql_run_failures_total', type: 'counter', help: 'Builds of the feature view that failed, over the runs writing this file.' },
  ],
  sync: [
    { name: 'fsql_sync_last_success_timestamp_seconds', type: 'gauge', help: 'When fsql sync last pushed the feature view successfully (Unix seconds).' },
    { name: 'fsql_sync_duration_seconds', type: 'gauge', help: "Seconds the feature view's sync took in the last fsql sync." },
    { name: 'fsql_sync_rows', type: 'gauge', help: 'Entity rows read for the feature view by the last fsql sync.' },
    { name: 'fsql_sync_failures_total', type: 'counter', help: 'Syncs of the feature view that failed, over the syncs writing this file.' },
  ],
};

/** The value of each series in a file this module wrote (its own format only). */
function previousValues(path: string): Map<string, number> {
  const out = new Map<string, number>();
  if (!existsSync(path)) return out;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^(\S+\})\s+(\S+)$/.exec(line) ?? /^([a-z_]+)\s+(\S+)$/.exec(line);
    if (m && !line.startsWith('#')) out.set(m[1], Number(m[2]));
  }
  return out;
}

export function writeMetricsFile(path: string, command: 'run' | 'sync', outcomes: ViewOutcome[], now = Date.now()): void {
  const previous = previousValues(path);
  const name = (suffix: string) => `fsql_${command}_${suffix}`;
  const values: Gauge[] = [];
  for (const o of outcomes) {
    const labels = { view: o.view };
    const lastSuccess = o.ok ? now / 1000 : previous.get(seriesKey(name('last_success_timestamp_seconds'), labels));
    if (lastSuccess !== undefined) values.push({ name: name('last_success_timestamp_seconds'), labels, value: lastSuccess });
    values.push({ name: name('duration_seconds'), labels, value: o.seconds });
    if (command === 'run') values.push({ name: name('success'), labels, value: o.ok ? 1 : 0 });
    if (command === 'sync' && o.rows !== undefined) values.push({ name: name('rows'), labels, value: o.rows });
    values.push({ name: name('failures_total'), labels, value: (previous.get(seriesKey(name('failures_total'), labels)) ?? 0) + (o.ok ? 0 : 1) });
  }
  writeMetricsText(path, renderValues(HELP[command], values));
}

/** Writes a metrics file's text to a temporary file and renames it over `path` (a scrape never sees half a file). */
export function writeMetricsText(path: string, text: string): void {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (e) {
    throw new ProjectError('--metrics-file', `cannot write ${path}: ${(e as Error).message}. Choose a path in a folder you can write to.`);
  }
}
