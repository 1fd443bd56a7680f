import type { Command } from 'commander';
import { CommandFailed } from '../../errors.js';
import { checkFreshness } from '../../offline/freshness.js';
import { withOnlineStore } from '../../online/open.js';
import { collect, print, projectFor, withWarehouse } from '../context.js';

export function register(program: Command): void {
  program
    .command('freshness')
    .description('per online view: newest offline timestamp, last sync watermark, age vs TTL; exit 1 when any is past its TTL')
    .option('-s, --select <selector>', 'views to check (dbt selection syntax)', collect)
    .option('--json', 'print one JSON object per view')
    .action(async (flags: { select?: string[]; json?: boolean }, cmd: Command) => {
      const project = projectFor(cmd);
      const report = await withWarehouse(project, (wh) => withOnlineStore(project, (store) => checkFreshness(project, wh, store, { select: flags.select })));
      if (flags.json) {
        for (const v of report) {
          print(JSON.stringify({
            view: v.view,
            ttl_seconds: v.ttlSeconds ?? null,
            newest_offline: v.newestOffline?.toISOString() ?? null,
            watermark: v.watermark?.toISOString() ?? null,
            age_seconds: v.ageSeconds ?? null,
            lag_seconds: v.lagSeconds ?? null,
            status: v.status,
            past_ttl: v.pastTtl,
          }));
        }
      } else {
        const head = ['view', 'newest offline', 'watermark', 'age', 'ttl', 'status'];
        const rows = report.map((v) => [
          v.view,
          v.newestOffline?.toISOString() ?? (v.offlineBuilt ? 'empty' : 'not built'),
          v.watermark?.toISOString() ?? 'none',
          v.ageSeconds === undefined ? '-' : duration(v.ageSeconds),
          v.ttlSeconds === undefined ? 'none' : duration(v.ttlSeconds),
          v.status,
        ]);
        const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
        print([head, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n'));
      }
      const stale = report.filter((v) => v.pastTtl);
      if (stale.length > 0) throw new CommandFailed(`${stale.length} online view(s) past their TTL: ${stale.map((v) => v.view).join(', ')}. Run fsql run and fsql sync.`);
    });
}

function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (Math.abs(s) >= 86400) return `${(s / 86400).toFixed(1)}d`;
  if (Math.abs(s) >= 3600) return `${(s / 3600).toFixed(1)}h`;
  if (Math.abs(s) >= 60) return `${(s / 60).toFixed(1)}m`;
  return `${s}s`;
}
