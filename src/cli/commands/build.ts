import type { Command } from 'commander';
import { mergePushedAfterBuild } from '../../offline/logs-load.js';
import { defaultLogDir } from '../../feature-log/segment.js';
import { CommandFailed } from '../../errors.js';
import { runDataTests } from '../../offline/data-tests.js';
import { runApplying } from '../../offline/state.js';
import { syncViews } from '../../offline/sync.js';
import { withOnlineStore } from '../../online/open.js';
import { collect, loggerFor, projectFor, withWarehouse } from '../context.js';

interface BuildFlags {
  select?: string[];
  exclude?: string[];
  fullRefresh?: boolean;
  threads?: string;
  sync?: boolean;
}

/** dbt's build: each view is built, then tested, in DAG order; a view whose tests fail fails, its descendants are skipped, and --sync leaves it out. */
export function register(program: Command): void {
  program
    .command('build')
    .description('run and test in DAG order: a view whose tests fail skips its descendants; --sync then pushes the views that passed')
    .option('-s, --select <selector>', 'views to build (dbt selection syntax)', collect)
    .option('--exclude <selector>', 'views to leave out', collect)
    .option('--full-refresh', 'rebuild incremental views from scratch')
    .option('--threads <n>', 'views built at once (default: the target threads)')
    .option('--sync', 'then sync the online views that built and passed their tests')
    .action(async (flags: BuildFlags, cmd: Command) => {
      const log = loggerFor(cmd);
      const project = projectFor(cmd);
      const { passed, summary, fields } = await withWarehouse(project, async (wh) => {
        const results = await runApplying(project, wh, log, {
          select: flags.select,
          exclude: flags.exclude,
          fullRefresh: flags.fullRefresh,
          threads: flags.threads ? Number(flags.threads) : undefined,
          afterBuild: async (view, c) => {
            const merge = await mergePushedAfterBuild(project, wh, log, defaultLogDir(project))(view, c);
            if (merge) return merge;
            const failing = (await runDataTests(project, wh, log, [view], c)).filter((t) => t.status !== 'pass');
            return failing.length > 0 ? `tests failed: ${failing.map((t) => `${t.name} (${t.message})`).join(', ')}` : undefined;
          },
        });
        const count = (s: string) => results.results.filter((r) => r.status === s).length;
        const passed = results.results.filter((r) => r.status === 'success').map((r) => r.name);
        const online = passed.filter((v) => project.views.get(v)!.config.online);
        if (flags.sync && online.length > 0) {
          const synced = await withOnlineStore(project, (store) => syncViews(project, wh, store, log, { select: online }));
          const failed = synced.filter((r) => r.status === 'error').map((r) => r.view);
          if (failed.length > 0) throw new CommandFailed(`sync failed for ${failed.join(', ')}`);
        }
        const fields = { pass: count('success'), error: count('error'), skip: count('skipped'), total: results.results.length, synced: flags.sync ? online.length : 0 };
        return { passed, fields, summary: `Done in ${results.elapsed_time.toFixed(2)}s. PASS=${fields.pass} ERROR=${fields.error} SKIP=${fields.skip} TOTAL=${fields.total}${flags.sync ? ` SYNCED=${fields.synced}` : ''}` };
      });
      if (passed.length < fields.total) throw new CommandFailed(summary, fields);
      log.info(summary, fields);
    });
}
