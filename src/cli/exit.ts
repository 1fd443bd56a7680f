/** The one place errors become messages and exit codes (dbt's: 0 ok, 1 handled failure, 2 unexpected). */
import { FsqlError } from '../errors.js';
import { redact } from '../secrets.js';

export function exitCodeFor(e: unknown): 1 | 2 {
  return e instanceof FsqlError ? 1 : 2;
}

export function reportError(e: unknown): void {
  const err = e as Error;
  if (e instanceof FsqlError) process.stderr.write(`error: ${e.message}\n`);
  else process.stderr.write(redact(`unexpected error (please report it): ${err?.stack ?? String(e)}\n`));
}
