/**
 * Responses written once per event-loop turn (setImmediate), after every socket ready in that turn
 * was read, rather than each as soon as its answer is known (serving/CONTEXT.md: written at once,
 * a fast answer, a cache hit above all, made the server wait for each next request by itself).
 */
export class ResponseBatch {
  private queue: (() => void)[] = [];
  private scheduled = false;

  add(write: () => void): void {
    this.queue.push(write);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flush);
  }

  private readonly flush = (): void => {
    const writes = this.queue;
    this.queue = [];
    this.scheduled = false;
    for (const write of writes) write();
  };
}
