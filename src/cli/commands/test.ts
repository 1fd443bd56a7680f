import type { Command } from 'commander';
import { CommandFailed } from '../../errors.js';
import { runDataTests } from '../../offline/data-tests.js';
import { collect, loggerFor, projectFor, withWarehouse } from '../context.js';

export function register(program: Command): void {
  program
    .command('test')
    .description('data tests: unique (keys, timestamp), not-null keys and timestamps, column tests from YAML')
    .option('-s, --select <selector>', 'views to test (dbt selection syntax)', collect)
    .action(async (opts: { select?: string[] }, cmd: Command) => {
      const log = loggerFor(cmd);
      const project = projectFor(cmd);
      const results = await withWarehouse(project, (wh) => runDataTests(project, wh, log, opts.select));
      const count = (s: string) => results.filter((r) => r.status === s).length;
      const summary = `PASS=${count('pass')} FAIL=${count('fail')} ERROR=${count('error')} TOTAL=${results.length}`;
      const summaryFields = { pass: count('pass'), fail: count('fail'), error: count('error'), total: results.length };
      if (count('fail') + count('error') > 0) throw new CommandFailed(summary, summaryFields);
      log.info(summary, summaryFields);
    });
}
