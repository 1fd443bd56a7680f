/**
 * Prometheus metrics, hand-written: counters and histograms keyed by their label set, a snapshot
 * that is plain JSON (so `serve --workers N` can add up the workers' snapshots in the primary),
 * and the text exposition format.
 */

import { formatNumber, seriesKey, type Gauge, type MetricHelp } from '../prometheus-text.js';

/** Latency buckets in seconds: fine below 10 ms, where a feature server should live. */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface HistogramData {
  buckets: number[];
  sum: number;
  count: number;
}

/** Label values as one key: `name{a="x",b="y"}` (also the exposition text of the series). */
export interface MetricsSnapshot {
  counters: Record<string, number>;
  histograms: Record<string, HistogramData>;
}

export const HELP: MetricHelp[] = [
  { name: 'fsql_http_requests_total', type: 'counter', help: 'HTTP requests by feature service (empty where the request named none that exists), endpoint and status.' },
  { name: 'fsql_http_request_duration_seconds', type: 'histogram', help: 'HTTP request latency by feature service, endpoint and status, from the first byte read to the last byte written.' },
  { name: 'fsql_online_store_read_duration_seconds', type: 'histogram', help: 'Latency of one online store read (one round trip) by endpoint.' },
  { name: 'fsql_online_store_errors_total', type: 'counter', help: 'Online store calls that failed.' },
  { name: 'fsql_served_views_total', type: 'counter', help: "Feature views read for an entity, by service, view and outcome: present, or MISSING_DATA because not_found, expired (past the TTL) or future (dated after the request's time)." },
  { name: 'fsql_cache_requests_total', type: 'counter', help: 'Entities looked up in the hot-key cache (serve --cache-ttl), by result: hit or miss.' },
  { name: 'fsql_push_rows_total', type: 'counter', help: 'Rows received by /push by feature view and outcome: written or stale (online), logged_offline (on disk for fsql run); for an aggregate view accepted or outside_horizon.' },
  { name: 'fsql_feature_log_entries_total', type: 'counter', help: 'Served vectors sampled for the feature log, by service and outcome: written (on disk), queue_full (dropped: the log fell behind) or write_failed.' },
  { name: 'fsql_sync_runs_total', type: 'counter', help: 'Finished fsql sync runs per feature view (from the online store, across all sync processes).' },
  { name: 'fsql_sync_rows_total', type: 'counter', help: 'Rows fsql sync wrote per feature view (from the online store).' },
  { name: 'fsql_sync_failures_total', type: 'counter', help: 'Syncs of the feature view that failed while the online store answered (from the online store, across all sync processes).' },
  { name: 'fsql_sync_last_success_timestamp_seconds', type: 'gauge', help: 'When fsql sync last finished the feature view successfully (Unix seconds, from the online store).' },
  { name: 'fsql_sync_duration_seconds', type: 'gauge', help: "Seconds the feature view's last successful fsql sync took (from the online store)." },
  { name: 'fsql_feature_freshness_seconds', type: 'gauge', help: 'Seconds since the newest synced feature timestamp (the sync watermark) per feature view.' },
  { name: 'fsql_feature_view_ttl_seconds', type: 'gauge', help: 'TTL of each online feature view (absent: values never expire).' },
  { name: 'fsql_serve_workers', type: 'gauge', help: 'Worker processes answering on this port.' },
];

export class Metrics {
  private counters = new Map<string, number>();
  private histograms = new Map<string, HistogramData>();

  inc(name: string, labels: Record<string, string>, by = 1): void {
    const key = seriesKey(name, labels);
    this.counters.set(key, (this.counters.get(key) ?? 0) + by);
  }

  /** Records one observation; `key` is a seriesKey() computed once by the caller. */
  observeKey(key: string, seconds: number): void {
    let h = this.histograms.get(key);
    if (!h) {
      h = { buckets: new Array(LATENCY_BUCKETS.length).fill(0), sum: 0, count: 0 };
      this.histograms.set(key, h);
    }
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
      if (seconds <= LATENCY_BUCKETS[i]) {
        h.buckets[i]++;
        break;
      }
    }
    h.sum += seconds;
    h.count++;
  }

  observe(name: string, labels: Record<string, string>, seconds: number): void {
    this.observeKey(seriesKey(name, labels), seconds);
  }

  incKey(key: string, by = 1): void {
    this.counters.set(key, (this.counters.get(key) ?? 0) + by);
  }

  snapshot(): MetricsSnapshot {
    return {
      counters: Object.fromEntries(this.counters),
      histograms: Object.fromEntries([...this.histograms].map(([k, h]) => [k, { buckets: [...h.buckets], sum: h.sum, count: h.count }])),
    };
  }
}

/** Adds snapshots up (the workers of one port). */
export function mergeSnapshots(snaps: MetricsSnapshot[]): MetricsSnapshot {
  const out: MetricsSnapshot = { counters: {}, histograms: {} };
  for (const s of snaps) {
    for (const [k, v] of Object.entries(s.counters)) out.counters[k] = (out.counters[k] ?? 0) + v;
    for (const [k, h] of Object.entries(s.histograms)) {
      const o = (out.histograms[k] ??= { buckets: new Array(LATENCY_BUCKETS.length).fill(0), sum: 0, count: 0 });
      h.buckets.forEach((n, i) => (o.buckets[i] += n));
      o.sum += h.sum;
      o.count += h.count;
    }
  }
  return out;
}

/** The Prometheus text exposition format (version 0.0.4). */
export function renderMetrics(snap: MetricsSnapshot, gauges: Gauge[]): string {
  const lines: string[] = [];
  for (const help of HELP) {
    const prefix = `${help.name}{`;
    const matches = (k: string) => k === help.name || k.startsWith(prefix);
    const body: string[] = [];
    if (help.type === 'counter') {
      for (const [k, v] of Object.entries(snap.counters).sort()) if (matches(k)) body.push(`${k} ${v}`);
      for (const g of gauges) if (g.name === help.name) body.push(`${seriesKey(g.name, g.labels)} ${formatNumber(g.value)}`);
    } else if (help.type === 'histogram') {
      for (const [k, h] of Object.entries(snap.histograms).sort()) {
        if (!matches(k)) continue;
        const labels = k.length > help.name.length ? k.slice(help.name.length + 1, -1) : '';
        const join = labels ? `${labels},` : '';
        let cumulative = 0;
        LATENCY_BUCKETS.forEach((le, i) => {
          cumulative += h.buckets[i];
          body.push(`${help.name}_bucket{${join}le="${le}"} ${cumulative}`);
        });
        body.push(`${help.name}_bucket{${join}le="+Inf"} ${h.count}`);
        body.push(`${help.name}_sum${labels ? `{${labels}}` : ''} ${h.sum}`);
        body.push(`${help.name}_count${labels ? `{${labels}}` : ''} ${h.count}`);
      }
    } else {
      for (const g of gauges) if (g.name === help.name) body.push(`${seriesKey(g.name, g.labels)} ${formatNumber(g.value)}`);
    }
    if (body.length === 0 && help.type !== 'gauge') continue;
    lines.push(`# HELP ${help.name} ${help.help}`, `# TYPE ${help.name} ${help.type}`, ...body);
  }
  return lines.join('\n') + '\n';
}
