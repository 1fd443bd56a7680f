/** What every command shares: the global flags, the project, the logger, the warehouse. */
import type { Command } from 'commander';
import { Logger, type LogFormat } from '../log.js';
import { loadProject } from '../project/load.js';
import type { Project } from '../project/types.js';
import { ProjectError } from '../errors.js';
import { Timestamp } from '../values.js';
import { openWarehouse } from '../warehouse/index.js';
import type { Warehouse } from '../warehouse/warehouse.js';

export interface GlobalOptions {
  projectDir?: string;
  profilesDir?: string;
  target?: string;
  vars?: string;
  logFormat?: LogFormat;
  quiet?: boolean;
}

export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

export function loggerFor(cmd: Command): Logger {
  const g = globals(cmd);
  return new Logger(g.logFormat ?? 'text', Boolean(g.quiet));
}

export function projectFor(cmd: Command): Project {
  const g = globals(cmd);
  return loadProject({ projectDir: g.projectDir, profilesDir: g.profilesDir, target: g.target, vars: g.vars, requireViews: true });
}

/** Opens the target's warehouse for `fn` and closes it afterwards, whatever happens. */
export async function withWarehouse<T>(project: Project, fn: (wh: Warehouse) => Promise<T>): Promise<T> {
  const wh = await openWarehouse(project);
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
