/** A RespConnection that is opened on first use, and opened again on the first use after it broke. */
import type { RespConnection } from './connection.js';

export class Reconnecting {
  private current?: Promise<RespConnection>;

  constructor(private readonly open: () => Promise<RespConnection>) {}

  get(): Promise<RespConnection> {
    const current = this.current;
    if (!current) return this.start(undefined);
    return current.then((c) => (c.broken ? this.start(current) : c));
  }

  async close(): Promise<void> {
    const current = this.current;
    this.current = undefined;
    if (current) await current.then((c) => c.close()).catch(() => undefined);
  }

  private start(replacing: Promise<RespConnection> | undefined): Promise<RespConnection> {
    // another caller already replaced the broken connection
    if (this.current !== replacing) return this.get();
    const opened = this.open();
    this.current = opened;
    opened.catch(() => {
      if (this.current === opened) this.current = undefined;
    });
    return opened;
  }
}
