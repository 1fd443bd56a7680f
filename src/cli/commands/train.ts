import type { Command } from 'commander';
import { DEFAULT_EVENT_TIMESTAMP, planTrain, train } from '../../offline/train.js';
import { loggerFor, parseTime, print, projectFor, withWarehouse } from '../context.js';

interface TrainFlags {
  service: string;
  events: string;
  out: string;
  timestampColumn?: string;
  dryRun?: boolean;
  start?: string;
  end?: string;
  served?: boolean;
}

export function register(program: Command): void {
  program
    .command('train')
    .description("build a point-in-time correct training table: each event row with the service's features as of its timestamp")
    .requiredOption('--service <name>', 'the feature service whose features to join')
    .requiredOption('--events <src>', 'the events: a .csv or .parquet file, table:<name>, sql:<query> or logged:<service> (requests fsql logs load loaded)')
    .requiredOption('--out <dst>', 'the training table: a .csv or .parquet file or table:<name> in the target warehouse')
    .option('--timestamp-column <column>', 'the event time column', DEFAULT_EVENT_TIMESTAMP)
    .option('--start <time>', 'with --events logged:<service>: requests from this time on (ISO 8601)')
    .option('--end <time>', 'with --events logged:<service>: requests before this time')
    .option('--served', 'with --events logged:<service>: output the values served instead of recomputing them')
    .option('--dry-run', 'print the SQL that would run; connect to nothing')
    .action(async (flags: TrainFlags, cmd: Command) => {
      const log = loggerFor(cmd);
      const project = projectFor(cmd);
      const [start, end] = [parseTime('--start', flags.start), parseTime('--end', flags.end)];
      const range = start || end ? { start, end } : undefined;
      const opts = { service: flags.service, events: flags.events, out: flags.out, timestampColumn: flags.timestampColumn, range, served: flags.served };
      if (flags.dryRun) {
        print(await planTrain(project, opts));
        return;
      }
      const r = await withWarehouse(project, (wh) => train(project, wh, log, opts));
      log.info(`Wrote ${r.rows} rows x ${r.columns.length} columns to ${r.output} in ${r.elapsed.toFixed(2)}s (service ${r.service}: ${r.views.join(', ')}; ${r.strategy} join).`, {
        rows: r.rows,
        output: r.output,
        service: r.service,
        views: r.views,
        elapsed: r.elapsed,
      });
    });
}
