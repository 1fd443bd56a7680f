import type { Command } from 'commander';
import { CommandFailed } from '../../errors.js';
import { writeMetricsFile } from '../../offline/metrics-file.js';
import { planRun } from '../../offline/run.js';
import { runApplying } from '../../offline/state.js';
import { mergePushedAfterBuild } from '../../offline/logs-load.js';
import { defaultLogDir } from '../../feature-log/segment.js';
import { resolve } from 'node:path';
import { collect, loggerFor, parseTime, print, projectFor, withWarehouse } from '../context.js';

interface RunFlags {
  select?: string[];
  exclude?: string[];
  fullRefresh?: boolean;
  start?: string;
  end?: string;
  threads?: string;
  dryRun?: boolean;
  metricsFile?: string;
  logDir?: string;
}

export function register(program: Command): void {
  program
    .command('run')
    .description('build the offline feature tables in DAG order; writes target/run_results.json')
    .option('-s, --select <selector>', 'views to build (dbt selection syntax)', collect)
    .option('--exclude <selector>', 'views to leave out', collect)
    .option('--full-refresh', 'rebuild incremental views from scratch')
    .option('--start <time>', 'backfill: rebuild incremental views from this time (inclusive)')
    .option('--end <time>', 'backfill: up to this time (exclusive)')
    .option('--threads <n>', 'views built at once (default: the target threads)')
    .option('--dry-run', 'print the SQL that would run; connect to nothing')
    .option('--log-dir <dir>', "where fsql serve keeps /push's offline rows, merged into views with push: true (default: <target-path>/feature_logs/<target>)")
    .option('--metrics-file <path>', "write each view's build figures in Prometheus' text format (node_exporter's textfile collector)")
    .action(async (flags: RunFlags, cmd: Command) => {
      const log = loggerFor(cmd);
      const project = projectFor(cmd);
      const opts = {
        select: flags.select,
        exclude: flags.exclude,
        fullRefresh: flags.fullRefresh,
        start: parseTime('--start', flags.start),
        end: parseTime('--end', flags.end),
        threads: flags.threads ? Number(flags.threads) : undefined,
      };
      if (flags.dryRun) {
        print((await planRun(project, opts)).join('\n'));
        return;
      }
      const logDir = flags.logDir !== undefined ? resolve(flags.logDir) : defaultLogDir(project);
      const results = await withWarehouse(project, (wh) => runApplying(project, wh, log, { ...opts, afterBuild: mergePushedAfterBuild(project, wh, log, logDir) }));
      if (flags.metricsFile) writeMetricsFile(flags.metricsFile, 'run', results.results.filter((r) => r.status !== 'skipped').map((r) => ({ view: r.name, ok: r.status === 'success', seconds: r.execution_time })));
      const count = (s: string) => results.results.filter((r) => r.status === s).length;
      const summary = `Done in ${results.elapsed_time.toFixed(2)}s. PASS=${count('success')} ERROR=${count('error')} SKIP=${count('skipped')} TOTAL=${results.results.length}`;
      const summaryFields = { pass: count('success'), error: count('error'), skip: count('skipped'), total: results.results.length, elapsed_seconds: results.elapsed_time };
      if (count('error') > 0) throw new CommandFailed(summary, summaryFields);
      log.info(summary, summaryFields);
    });
}
