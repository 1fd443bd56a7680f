import type { Command } from 'commander';
import { CommandFailed } from '../../errors.js';
import { withOnlineStore } from '../../online/open.js';
import { writeMetricsFile } from '../../offline/metrics-file.js';
import { planSync, syncViews } from '../../offline/sync.js';
import { collect, loggerFor, print, projectFor, withWarehouse } from '../context.js';

interface SyncFlags {
  select?: string[];
  exclude?: string[];
  fullRefresh?: boolean;
  dryRun?: boolean;
  metricsFile?: string;
}

export function register(program: Command): void {
  program
    .command('sync')
    .description("push the latest row per entity of each online view into the target's online store")
    .option('-s, --select <selector>', 'views to sync (dbt selection syntax)', collect)
    .option('--exclude <selector>', 'views to leave out', collect)
    .option('--full-refresh', "drop the views' online values and watermarks, then push everything again")
    .option('--dry-run', 'print the SQL that would run; connect to nothing')
    .option('--metrics-file <path>', "write each view's sync figures in Prometheus' text format (node_exporter's textfile collector)")
    .action(async (flags: SyncFlags, cmd: Command) => {
      const log = loggerFor(cmd);
      const project = projectFor(cmd);
      const opts = { select: flags.select, exclude: flags.exclude, fullRefresh: flags.fullRefresh };
      if (flags.dryRun) {
        print((await planSync(project, opts)).join('\n'));
        return;
      }
      const t0 = Date.now();
      const results = await withWarehouse(project, (wh) => withOnlineStore(project, (store) => syncViews(project, wh, store, log, opts)));
      if (flags.metricsFile) writeMetricsFile(flags.metricsFile, 'sync', results.filter((r) => r.status !== 'skipped').map((r) => ({ view: r.view, ok: r.status === 'success', seconds: r.seconds, rows: r.rowsRead })));
      const count = (s: string) => results.filter((r) => r.status === s).length;
      const rows = results.reduce((n, r) => n + r.rowsRead, 0);
      const written = results.reduce((n, r) => n + r.written, 0);
      const summary = `Done in ${((Date.now() - t0) / 1000).toFixed(2)}s: ${rows} entities read, ${written} written. PASS=${count('success')} ERROR=${count('error')} SKIP=${count('skipped')} TOTAL=${results.length}`;
      const summaryFields = { pass: count('success'), error: count('error'), skip: count('skipped'), total: results.length, rows_read: rows, written };
      if (count('error') > 0) throw new CommandFailed(summary, summaryFields);
      log.info(summary, summaryFields);
    });
}
