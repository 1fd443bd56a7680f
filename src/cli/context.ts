/** What every command shares: the global flags, the project, the logger, the warehouse. */
import type { Command } from 'commander';
import { Logger, type LogFormat } from '../log.js';
import { loadProject } from '../project/load.js';
import type { Project } from '../project/types.js';
import { ProjectError } from '../errors.js';
import { Timestamp } from '../values.js';
import { loggingStatements } from '../warehouse/statement-log.js';
import { openWarehouse } from '../warehouse/index.js';
import type { Warehouse } from '../warehouse/warehouse.js';

export interface GlobalOptions {
  projectDir?: string;
  profilesDir?: string;
  target?: string;
  vars?: string;
  logFormat?: LogFormat;
  quiet?: boolean;
  debug?: boolean;
}

export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

export function loggerFor(cmd: Command): Logger {
  return logger(globals(cmd));
}

export function logger(g: GlobalOptions): Logger {
  return new Logger(g.logFormat === 'json' ? 'json' : 'text', Boolean(g.quiet));
}

/** --debug: where each statement sent to a warehouse is logged (undefined: nowhere). */
let statementLog: Logger | undefined;
export function setStatementLog(log: Logger | undefined): void {
  statementLog = log;
}

export function projectFor(cmd: Command): Project {
  const g = globals(cmd);
  return loadProject({ projectDir: g.projectDir, profilesDir: g.profilesDir, target: g.target, vars: g.vars, requireViews: true });
}

/** Opens the target's warehouse for `fn` and closes it afterwards, whatever happens. */
export async function withWarehouse<T>(project: Project, fn: (wh: Warehouse) => Promise<T>): Promise<T> {
  const opened = await openWarehouse(project);
  const wh = statementLog ? loggingStatements(opened, statementLog) : opened;
  try {
    return await fn(wh);
  } finally {
    await wh.close();
  }
}

/** Output to stdout (results), as opposed to the logger's messages on stderr. */
export function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function parseTime(flag: string, text: string | undefined): Timestamp | undefined {
  if (text === undefined) return undefined;
  const ts = Timestamp.parse(text);
  if (!ts) throw new ProjectError(flag, `'${text}' is not a timestamp; write ISO 8601 such as 2024-01-31 or 2024-01-31T12:00:00Z.`);
  return ts;
}

/** commander collects repeated or space-separated selectors into one list */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
