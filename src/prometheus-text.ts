/**
 * Prometheus' text exposition format (version 0.0.4), the pieces every exporter of fsql shares:
 * `serve`'s /metrics (serving/metrics.ts) and the `--metrics-file` of run and sync
 * (offline/metrics-file.ts, for node_exporter's textfile collector).
 */

export interface MetricHelp {
  name: string;
  type: 'counter' | 'histogram' | 'gauge';
  help: string;
}

/** A value read when the text is written (a gauge, or a counter kept elsewhere). */
export interface Gauge {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Label values as one key: `name{a="x",b="y"}` (also the exposition text of the series). */
export function seriesKey(name: string, labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `${name}{${parts.join(',')}}` : name;
}

export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  return String(v);
}

/** The samples of gauges and counters known by value, each family under its HELP and TYPE lines. */
export function renderValues(help: MetricHelp[], values: Gauge[]): string {
  const lines: string[] = [];
  for (const h of help) {
    const body = values.filter((g) => g.name === h.name).map((g) => `${seriesKey(g.name, g.labels)} ${formatNumber(g.value)}`);
    if (body.length > 0) lines.push(`# HELP ${h.name} ${h.help}`, `# TYPE ${h.name} ${h.type}`, ...body);
  }
  return lines.join('\n') + '\n';
}
