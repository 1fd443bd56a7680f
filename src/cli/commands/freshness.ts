import type { Command } from 'commander';
import { CommandFailed } from '../../errors.js';
import { checkFreshness, type FreshnessLevel } from '../../offline/freshness.js';
import { withOnlineStore } from '../../online/open.js';
import type { Freshness } from '../../project/types.js';
import { collect, loggerFor, print, projectFor, withWarehouse } from '../context.js';
import { formatTable } from '../table.js';

export function register(program: Command): void {
  program
    .command('freshness')
    .description("sources and views against their freshness: blocks (dbt's warn_after, error_after); online views without one against their TTL; exit 1 on an error, a warning keeps exit 0")
    .option('-s, --select <selector>', 'views to check, and the sources they read (dbt selection syntax)', collect)
    .option('--json', 'print one JSON object per source and view')
    .action(async (flags: { select?: string[]; json?: boolean }, cmd: Command) => {
      const project = projectFor(cmd);
      const log = loggerFor(cmd);
      const { sources, views } = await withWarehouse(project, (wh) => withOnlineStore(project, (store) => checkFreshness(project, wh, store, { select: flags.select })));
      if (flags.json) {
        for (const s of sources) {
          print(JSON.stringify({ source: s.source, column: s.column, newest: s.newest?.toISOString() ?? null, age_seconds: s.ageSeconds ?? null, ...limits(s.freshness), level: s.level }));
        }
        for (const v of views) {
          print(JSON.stringify({
            view: v.view,
            ttl_seconds: v.ttlSeconds ?? null,
            newest_offline: v.newestOffline?.toISOString() ?? null,
            watermark: v.watermark?.toISOString() ?? null,
            age_seconds: v.ageSeconds ?? null,
            lag_seconds: v.lagSeconds ?? null,
            ...(v.freshness ? limits(v.freshness) : {}),
            status: v.status,
            past_ttl: v.pastTtl,
            level: v.level,
          }));
        }
      } else {
        const head = ['source / view', 'newest', 'watermark', 'age', 'limit', 'status'];
        const rows = [
          ...sources.map((s) => [`source ${s.source}`, s.newest?.toISOString() ?? 'no rows', '-', age(s.ageSeconds), limitText(s.freshness), s.level.toUpperCase()]),
          ...views.map((v) => [
            v.view,
            v.newestOffline?.toISOString() ?? (v.offlineBuilt ? 'empty' : 'not built'),
            v.online ? (v.watermark?.toISOString() ?? 'none') : '(offline)',
            age(v.ageSeconds),
            v.freshness ? limitText(v.freshness) : v.ttlSeconds === undefined ? 'none' : `ttl ${age(v.ttlSeconds)}`,
            v.freshness ? v.level.toUpperCase() : v.status,
          ]),
        ];
        print(formatTable(head, rows));
      }
      const named = (level: FreshnessLevel) => [...sources.filter((s) => s.level === level).map((s) => `source ${s.source}`), ...views.filter((v) => v.level === level).map((v) => v.view)];
      const warned = named('warn');
      if (warned.length > 0) log.warn(`${warned.length} past warn_after: ${warned.join(', ')}.`);
      const failed = named('error');
      if (failed.length > 0) throw new CommandFailed(`${failed.length} stale (past error_after, or an online view past its TTL): ${failed.join(', ')}. Load the sources, then run fsql run and fsql sync.`);
    });
}

function limits(f: Freshness): { warn_after_seconds: number | null; error_after_seconds: number | null } {
  return { warn_after_seconds: f.warnAfterSeconds ?? null, error_after_seconds: f.errorAfterSeconds ?? null };
}

function limitText(f: Freshness): string {
  return [f.warnAfterSeconds === undefined ? '' : `warn ${age(f.warnAfterSeconds)}`, f.errorAfterSeconds === undefined ? '' : `error ${age(f.errorAfterSeconds)}`].filter(Boolean).join(', ');
}

function age(seconds: number | undefined): string {
  if (seconds === undefined) return '-';
  const s = Math.round(seconds);
  if (Math.abs(s) >= 86400) return `${(s / 86400).toFixed(1)}d`;
  if (Math.abs(s) >= 3600) return `${(s / 3600).toFixed(1)}h`;
  if (Math.abs(s) >= 60) return `${(s / 60).toFixed(1)}m`;
  return `${s}s`;
}
