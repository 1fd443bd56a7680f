/** One error class per kind of failure; the CLI maps them to exit codes in one place (cli/exit.ts). */
import { redact } from './secrets.js';

export class FsqlError extends Error {
  constructor(message: string) {
    super(redact(message));
    this.name = new.target.name;
  }
}

/** Bad project input: names the file and, where known, the line. */
export class ProjectError extends FsqlError {
  constructor(
    readonly file: string,
    readonly detail: string,
    readonly line?: number,
  ) {
    super(`${file}${line ? `:${line}` : ''}: ${detail}`);
  }
}

export class CompileError extends FsqlError {}
export class WarehouseError extends FsqlError {}
export class OnlineStoreError extends FsqlError {}
/** A handled failure of a command (a view failed, a test failed): exit code 1, no stack; `fields` go into a JSON log line. */
export class CommandFailed extends FsqlError {
  constructor(
    message: string,
    readonly fields: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** A bad HTTP request: carries the HTTP status and the gRPC code of the JSON error body. */
export class RequestError extends FsqlError {
  constructor(
    readonly status: number,
    readonly grpcCode: number,
    message: string,
  ) {
    super(message);
  }
}
