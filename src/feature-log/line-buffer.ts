/**
 * Lines waiting for a segment writer, held as UTF-8 bytes in buffers outside the JavaScript heap.
 * Lines are short-lived strings: copied here right away, they die young, where strings kept until
 * the flush would be copied by the garbage collector into the old generation. The buffers are
 * reused once written (release): allocating new ones at the log's rate made V8 count them as
 * external memory and start a full collection every half second (CONTEXT.md).
 */

/** Bytes per buffer; lines longer than that get a buffer of their own, not reused. */
const SLAB_BYTES = 1024 * 1024;
/** The longest line (in UTF-16 code units, each at most 3 UTF-8 bytes) that always fits a reused buffer. */
export const LINE_CHARS = Math.floor((SLAB_BYTES - 1) / 3);
/** Written buffers kept for reuse, at most (32 MiB). */
const MAX_FREE = 32;
const NEWLINE = 10;

const free: Buffer[] = [];

export class LineBuffer {
  /** the buffers filled so far, each cut to its bytes */
  private readonly filled: Buffer[] = [];
  /** every buffer taken, the one being filled last */
  private readonly taken: Buffer[] = [];
  private slab?: Buffer;
  private used = 0;

  /** Appends `line` and a newline. */
  push(line: string): void {
    const most = line.length * 3 + 1;
    if (!this.slab || this.used + most > this.slab.length) this.nextSlab(most);
    const slab = this.slab!;
    this.used += slab.write(line, this.used);
    slab[this.used++] = NEWLINE;
  }

  /** The bytes pushed so far, in order; valid until release(). */
  bytes(): Buffer[] {
    return this.slab ? [...this.filled, this.slab.subarray(0, this.used)] : [...this.filled];
  }

  /** Gives the buffers back for reuse, once what bytes() returned is written; the buffer is empty again. */
  release(): void {
    for (const b of this.taken) if (b.length === SLAB_BYTES && free.length < MAX_FREE) free.push(b);
    this.taken.length = 0;
    this.filled.length = 0;
    this.slab = undefined;
  }

  private nextSlab(most: number): void {
    if (this.slab) this.filled.push(this.slab.subarray(0, this.used));
    this.slab = most <= SLAB_BYTES ? free.pop() ?? Buffer.allocUnsafeSlow(SLAB_BYTES) : Buffer.allocUnsafeSlow(most);
    this.taken.push(this.slab);
    this.used = 0;
  }
}
