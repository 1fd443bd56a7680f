import type { SyncStats } from '../store.js';

/** Sync counters from `<view>:runs` / `<view>:rows` fields (the Redis hash) into one entry per view. */
export function syncStatsFrom(fields: [string, string][]): SyncStats[] {
  const byView = new Map<string, SyncStats>();
  for (const [field, value] of fields) {
    const cut = field.lastIndexOf(':');
    const view = field.slice(0, cut);
    const s = byView.get(view) ?? { view, runs: 0, rows: 0 };
    if (field.slice(cut + 1) === 'runs') s.runs = Number(value);
    else s.rows = Number(value);
    byView.set(view, s);
  }
  return [...byView.values()].sort((a, b) => (a.view < b.view ? -1 : 1));
}
