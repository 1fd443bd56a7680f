/**
 * Responses written once per event-loop turn (setImmediate), after every socket ready in that turn
 * was read, rather than each as soon as its answer is known (serving/CONTEXT.md: written at once,
 * a fast answer, a cache hit above all, made the server wait for each next request by itself).
 */
export class ResponseBatch {
  private queue: { write: () => void; fail: (e: unknown) => void }[] = [];
  private scheduled = false;

  /** `after`: work that waits for the turn's answers (the feature log's encoding), run once they are written. */
  constructor(private readonly after: () => void) {}

  /** `fail`: the answer to give when `write` throws; the turn's other writes still run. */
  add(write: () => void, fail: (e: unknown) => void): void {
    this.queue.push({ write, fail });
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flush);
  }

  private readonly flush = (): void => {
    const writes = this.queue;
    this.queue = [];
    this.scheduled = false;
    for (const { write, fail } of writes) {
      try {
        write();
      } catch (e) {
        fail(e);
      }
    }
    this.after();
  };
}
