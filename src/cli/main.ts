/** The fsql command line: thin wiring from flags to one operation per command. */
import { Command, CommanderError } from 'commander';
import { restoreFastPrototypes } from '../fast-prototypes.js';
import { FSQL_VERSION } from '../version.js';
import { exitCodeFor, reportError } from './exit.js';
import { globals, logger, loggerFor, setStatementLog } from './context.js';

interface CommandModule {
  register(program: Command): void;
}

/** Each command's module, loaded only when needed: `fsql run` never loads the HTTP server or Redis client. */
const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  init: () => import('./commands/init.js'),
  ls: () => import('./commands/ls.js'),
  compile: () => import('./commands/compile.js'),
  run: () => import('./commands/run.js'),
  build: () => import('./commands/build.js'),
  plan: () => import('./commands/plan.js'),
  test: () => import('./commands/test.js'),
  train: () => import('./commands/train.js'),
  sync: () => import('./commands/sync.js'),
  get: () => import('./commands/get.js'),
  freshness: () => import('./commands/freshness.js'),
  monitor: () => import('./commands/monitor.js'),
  serve: () => import('./commands/serve.js'),
  'api-key': () => import('./commands/api-key.js'),
  'skew-check': () => import('./commands/skew-check.js'),
  docs: () => import('./commands/docs.js'),
  debug: () => import('./commands/debug.js'),
  show: () => import('./commands/show.js'),
  logs: () => import('./commands/logs.js'),
};
const GLOBAL_OPTIONS_WITH_VALUE = new Set(['--project-dir', '--profiles-dir', '-t', '--target', '--vars', '--log-format']);

/** The command named on the command line, or undefined (help, a typo): then every command is loaded. */
function invokedCommand(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (GLOBAL_OPTIONS_WITH_VALUE.has(arg)) i++;
    else if (!arg.startsWith('-')) return arg in COMMANDS ? arg : undefined;
  }
  return undefined;
}

const program = new Command('fsql')
  .version(FSQL_VERSION)
  .description('A feature store built like dbt: SQL feature views, point-in-time training tables, online serving')
  .option('--project-dir <dir>', 'the feature project folder (default: the current folder)')
  .option('--profiles-dir <dir>', 'the folder holding profiles.yml')
  .option('-t, --target <name>', 'the profiles.yml output to use')
  .option('--vars <yaml>', "variables for var(), such as '{x: 1}'")
  .option('--log-format <format>', 'text or json', 'text')
  .option('-q, --quiet', 'print errors and results only')
  .option('--debug', 'also log each SQL statement sent to the warehouse, with its duration')
  .showHelpAfterError()
  .exitOverride()
  .hook('preAction', (_program, action) => setStatementLog(globals(action).debug ? loggerFor(action) : undefined));

try {
  const name = invokedCommand(process.argv.slice(2));
  const modules = await Promise.all((name ? [COMMANDS[name]] : Object.values(COMMANDS)).map((load) => load()));
  for (const m of modules) m.register(program);
  restoreFastPrototypes();
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? 0 : 1;
  } else {
    reportError(e, logger(program.opts()));
    process.exitCode = exitCodeFor(e);
  }
}
