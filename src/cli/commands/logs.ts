import { resolve } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_BATCH_ENTRIES, loadLogs } from '../../offline/logs-load.js';
import { ProjectError } from '../../errors.js';
import { defaultLogDir } from '../../feature-log/segment.js';
import { loggerFor, projectFor, withWarehouse } from '../context.js';

interface LoadFlags {
  service?: string;
  logDir?: string;
  batchEntries?: string;
}

export function register(program: Command): void {
  const logs = program.command('logs').description('the feature log of services with logging: (SPEC section 12)');
  logs
    .command('load')
    .description('move feature log segments into fsql_logged_<service> in the target warehouse, each entry exactly once')
    .option('--service <name>', 'only this service (default: every service with a folder in the log directory)')
    .option('--log-dir <dir>', 'the folder fsql serve --log-dir wrote (default: <target-path>/feature_logs/<target>)')
    .option('--batch-entries <n>', `entries per warehouse transaction (default ${DEFAULT_BATCH_ENTRIES})`)
    .action(async (flags: LoadFlags, cmd: Command) => {
      const log = loggerFor(cmd);
      const project = projectFor(cmd);
      const dir = flags.logDir !== undefined ? resolve(flags.logDir) : defaultLogDir(project);
      const batchEntries = flags.batchEntries === undefined ? undefined : Number(flags.batchEntries);
      if (batchEntries !== undefined && (!Number.isInteger(batchEntries) || batchEntries < 1)) throw new ProjectError('--batch-entries', `'${flags.batchEntries}' is not a whole number above zero.`);
      const t0 = Date.now();
      const results = await withWarehouse(project, (wh) => loadLogs(project, wh, dir, log, { service: flags.service, batchEntries }));
      const entries = results.reduce((n, r) => n + r.entries, 0);
      const segments = results.reduce((n, r) => n + r.segments, 0);
      const seconds = (Date.now() - t0) / 1000;
      log.info(`Done in ${seconds.toFixed(2)}s: ${entries} entries from ${segments} segment(s) of ${results.length} service(s) loaded from ${dir}.`, { entries, segments, services: results.length });
    });
}
