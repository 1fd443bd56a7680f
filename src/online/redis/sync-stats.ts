import type { SyncStats } from '../store.js';

const FIELDS: Record<string, 'runs' | 'rows' | 'failures' | 'lastSuccess' | 'duration'> = { runs: 'runs', rows: 'rows', failures: 'failures', last_success: 'lastSuccess', duration: 'duration' };

/** Sync counters from `<view>:<field>` fields (the Redis hash: runs, rows, failures, last_success, duration) into one entry per view. */
export function syncStatsFrom(fields: [string, string][]): SyncStats[] {
  const byView = new Map<string, SyncStats>();
  for (const [field, value] of fields) {
    const cut = field.lastIndexOf(':');
    const view = field.slice(0, cut);
    const s = byView.get(view) ?? { view, runs: 0, rows: 0, failures: 0 };
    const name = FIELDS[field.slice(cut + 1)];
    if (name) s[name] = Number(value);
    byView.set(view, s);
  }
  return [...byView.values()].sort((a, b) => (a.view < b.view ? -1 : 1));
}
