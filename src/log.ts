/** Messages to the user: text or JSON lines on stderr/stdout, always redacted. */
import { redact } from './secrets.js';

export type LogFormat = 'text' | 'json';

export class Logger {
  constructor(
    readonly format: LogFormat = 'text',
    readonly quiet = false,
    private readonly out: NodeJS.WritableStream = process.stderr,
  ) {}

  info(msg: string, fields: Record<string, unknown> = {}): void {
    if (!this.quiet) this.write('info', msg, fields);
  }

  warn(msg: string, fields: Record<string, unknown> = {}): void {
    this.write('warn', msg, fields);
  }

  error(msg: string, fields: Record<string, unknown> = {}): void {
    this.write('error', msg, fields);
  }

  /** `--debug` output, such as each SQL statement sent (also with --quiet, which hides info only). */
  debug(msg: string, fields: Record<string, unknown> = {}): void {
    this.write('debug', msg, fields);
  }

  /** True when progress may redraw a line (a TTY and text output). */
  get interactive(): boolean {
    return this.format === 'text' && !this.quiet && Boolean((this.out as NodeJS.WriteStream).isTTY);
  }

  progress(msg: string): void {
    if (this.interactive) this.out.write(`\r\x1b[2K${redact(msg)}`);
  }

  /** A line kept on screen, on a TTY only (`START` lines of long work); pipes and --quiet get none. */
  step(msg: string): void {
    if (this.interactive) this.out.write(`\r\x1b[2K${redact(msg)}\n`);
  }

  endProgress(): void {
    if (this.interactive) this.out.write('\r\x1b[2K');
  }

  private write(level: string, msg: string, fields: Record<string, unknown>): void {
    if (this.format === 'json') {
      this.out.write(redact(JSON.stringify({ ts: new Date().toISOString(), level, msg, ...fields }, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))) + '\n');
    } else {
      this.out.write(redact(level === 'info' ? msg : `${level}: ${msg}`) + '\n');
    }
  }
}
