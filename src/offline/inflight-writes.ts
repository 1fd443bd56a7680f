/** How a sync's writes overlap the warehouse's stream: rows per chunk read, writes in flight at once. */
import type { WriteResult } from '../online/store.js';

export const DEFAULT_CHUNK_ROWS = 5000;
export const DEFAULT_INFLIGHT = 10;

/** Keeps at most `limit` writes in flight; the first failure is rethrown once the rest have settled. */
export class Inflight {
  private readonly pending: Promise<WriteResult>[] = [];

  constructor(
    private readonly limit: number,
    private readonly done: (w: WriteResult) => void,
  ) {}

  async add(p: Promise<WriteResult>): Promise<void> {
    p.catch(() => undefined);
    this.pending.push(p);
    if (this.pending.length >= this.limit) this.done(await this.pending.shift()!);
  }

  async drain(): Promise<void> {
    while (this.pending.length > 0) this.done(await this.pending.shift()!);
  }

  async settle(): Promise<void> {
    await Promise.allSettled(this.pending.splice(0));
  }
}
