/** The fsql command line: thin wiring from flags to one operation per command. */
import { Command, CommanderError } from 'commander';
import { FSQL_VERSION } from '../compiler/compile.js';
import { exitCodeFor, reportError } from './exit.js';
import * as compile from './commands/compile.js';
import * as init from './commands/init.js';
import * as ls from './commands/ls.js';
import * as run from './commands/run.js';
import * as test from './commands/test.js';
import * as train from './commands/train.js';
import * as sync from './commands/sync.js';
import * as get from './commands/get.js';
import * as freshness from './commands/freshness.js';
import * as serve from './commands/serve.js';
import * as apiKey from './commands/api-key.js';
import * as skewCheck from './commands/skew-check.js';

const program = new Command('fsql')
  .version(FSQL_VERSION)
  .description('A feature store built like dbt: SQL feature views, point-in-time training tables, online serving')
  .option('--project-dir <dir>', 'the feature project folder (default: the current folder)')
  .option('--profiles-dir <dir>', 'the folder holding profiles.yml')
  .option('-t, --target <name>', 'the profiles.yml output to use')
  .option('--vars <yaml>', "variables for var(), such as '{x: 1}'")
  .option('--log-format <format>', 'text or json', 'text')
  .option('-q, --quiet', 'print errors and results only')
  .showHelpAfterError()
  .exitOverride();

for (const command of [init, ls, compile, run, test, train, sync, get, freshness, serve, apiKey, skewCheck]) command.register(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? 0 : 1;
  } else {
    reportError(e);
    process.exitCode = exitCodeFor(e);
  }
}
