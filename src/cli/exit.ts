/** The one place errors become messages and exit codes (dbt's: 0 ok, 1 handled failure, 2 unexpected). */
import { CommandFailed, FsqlError } from '../errors.js';
import type { Logger } from '../log.js';

export function exitCodeFor(e: unknown): 1 | 2 {
  return e instanceof FsqlError ? 1 : 2;
}

/** On the log, in its format: with --log-format json the error is a JSON line like every other. */
export function reportError(e: unknown, log: Logger): void {
  const err = e as Error;
  if (e instanceof FsqlError) log.error(e.message, e instanceof CommandFailed ? e.fields : {});
  else log.error(`unexpected error (please report it): ${err?.stack ?? String(e)}`);
}
