/**
 * Appends lines to a service's segment files, each write followed by an fdatasync, so what a
 * write() resolved for survives a crash of the process or the host. A segment is rotated past
 * `maxBytes`, and whenever the service's shape changes (a new header). Ids are unique across
 * processes and hosts (host, pid, start time, a random part, a sequence number), so the segments of
 * many servers can be gathered in one directory and loaded together.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { SEGMENT_EXTENSION, type SegmentHeader } from './segment.js';

const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;

/** This process's tag: the prefix of its segment and request ids. */
export const PROCESS_TAG = `${hostname().replace(/[^A-Za-z0-9_-]/g, '_')}-${process.pid}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
let sequence = 0;

/** A count of this process, one up per call (not per log or server: a process may run several). */
export function processSequence(): number {
  return sequence++;
}

/** A new id, unique to this process and call: segments' and logged requests'. */
export function processUniqueId(): string {
  return `${PROCESS_TAG}-${processSequence().toString(36)}`;
}

export class SegmentWriter {
  private file?: FileHandle;
  private bytes = 0;
  private header?: Omit<SegmentHeader, 'segment'>;

  constructor(
    private readonly dir: string,
    private readonly maxBytes = DEFAULT_SEGMENT_BYTES,
  ) {}

  /** Appends whole lines (text, or UTF-8 bytes in order) to the open segment of `header`'s shape, opening a new segment when needed; resolves once on disk. */
  async append(header: Omit<SegmentHeader, 'segment'>, lines: string | Buffer[]): Promise<void> {
    if (!this.file || this.header !== header || this.bytes >= this.maxBytes) await this.openSegment(header);
    const data = typeof lines === 'string' ? [Buffer.from(lines)] : lines;
    const { bytesWritten } = await this.file!.writev(data);
    await this.file!.datasync();
    this.bytes += bytesWritten;
  }

  /** Closes the open segment; the next append starts a new one. */
  async close(): Promise<void> {
    const f = this.file;
    this.file = undefined;
    this.header = undefined;
    await f?.close();
  }

  private async openSegment(header: Omit<SegmentHeader, 'segment'>): Promise<void> {
    await this.close();
    await mkdir(this.dir, { recursive: true });
    const id = processUniqueId();
    const file = await open(join(this.dir, `${id}${SEGMENT_EXTENSION}`), 'wx');
    const line = Buffer.from(`${JSON.stringify({ ...header, segment: id })}\n`);
    await file.write(line, 0, line.length);
    await file.sync();
    // the new name itself must survive a crash, or the lines written to it are lost with it
    const dirHandle = await open(this.dir, 'r');
    try {
      await dirHandle.sync();
    } finally {
      await dirHandle.close();
    }
    this.file = file;
    this.header = header;
    this.bytes = line.length;
  }
}
