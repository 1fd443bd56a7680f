/**
 * An in-memory OnlineStore for unit tests of the HTTP layer: the interface's rules (monotonic
 * writes, TTL after ts, hashes only for keys) in a few Maps, plus switches to make it fail like an
 * unreachable store. Integration tests use the real Redis and SQLite stores.
 */
import { OnlineStoreError } from '../../src/errors.js';
import { EncodedRow, encodeFeatures, LayoutMismatchError, oldestValidMicros } from '../../src/online/codec.js';
import { toOnlineRows } from '../../src/online/column-rows.js';
import type { ApiKeyRecord, ColumnRows, OnlineRow, OnlineStore, StoredRow, SyncStats, ViewLayout, WriteResult } from '../../src/online/store.js';
import { Timestamp, type Value } from '../../src/values.js';

function keyText(key: Value[]): string {
  return JSON.stringify(key.map((k) => (typeof k === 'bigint' ? `i:${k}` : k instanceof Timestamp ? `t:${k.micros}` : k)));
}

function newer(a: { ts: Timestamp; created?: Timestamp }, b: { ts: Timestamp; created?: Timestamp }): boolean {
  if (a.ts.micros !== b.ts.micros) return a.ts.micros > b.ts.micros;
  return (a.created?.micros ?? -1n) > (b.created?.micros ?? -1n);
}

export class MemoryStore implements OnlineStore {
  readonly location = 'memory';
  down = false;
  reads = 0;
  /** like the real stores: a read with another layout than the stored one fails with LayoutMismatchError */
  strictLayouts = false;
  private layouts = new Map<string, ViewLayout>();
  private rows = new Map<string, Map<string, Omit<OnlineRow, 'key'>>>();
  private watermarks = new Map<string, Timestamp>();
  private syncStats = new Map<string, SyncStats>();
  private keys = new Map<string, ApiKeyRecord>();

  private check(): void {
    if (this.down) throw new OnlineStoreError('memory store is down (test switch)');
  }

  async ping(): Promise<void> {
    this.check();
  }

  async putLayout(layout: ViewLayout): Promise<void> {
    this.check();
    this.layouts.set(layout.view, layout);
  }

  async getLayouts(): Promise<ViewLayout[]> {
    this.check();
    return [...this.layouts.values()];
  }

  writeColumns(layout: ViewLayout, rows: ColumnRows): Promise<WriteResult> {
    return this.write(layout, toOnlineRows(layout, rows));
  }

  async write(layout: ViewLayout, rows: OnlineRow[]): Promise<WriteResult> {
    this.check();
    const table = this.rows.get(layout.view) ?? new Map<string, Omit<OnlineRow, 'key'>>();
    this.rows.set(layout.view, table);
    let written = 0;
    let stale = 0;
    for (const r of rows) {
      const k = keyText(r.key);
      const have = table.get(k);
      if (have && !newer(r, have)) {
        stale++;
        continue;
      }
      table.set(k, { ts: r.ts, created: r.created, values: r.values });
      written++;
    }
    return { written, stale };
  }

  async read(requests: { layout: ViewLayout; key: Value[] }[]): Promise<(StoredRow | undefined)[]> {
    this.check();
    this.reads++;
    const now = BigInt(Date.now()) * 1000n;
    if (this.strictLayouts) {
      for (const { layout } of requests) {
        const stored = this.layouts.get(layout.view);
        if (stored && JSON.stringify(stored.features) !== JSON.stringify(layout.features)) throw new LayoutMismatchError(`view '${layout.view}' was written with other features`);
      }
    }
    return requests.map(({ layout, key }) => {
      const row = this.rows.get(layout.view)?.get(keyText(key));
      if (!row) return undefined;
      const oldest = oldestValidMicros(layout, now);
      if (oldest !== undefined && row.ts.micros < oldest) return undefined;
      // encoded like the real stores, so readers get the stored text too
      return new EncodedRow(layout, row.ts, row.created, encodeFeatures(layout, row.values), 0);
    });
  }

  async getWatermark(view: string): Promise<Timestamp | undefined> {
    this.check();
    return this.watermarks.get(view);
  }

  async setWatermark(view: string, ts: Timestamp): Promise<void> {
    this.watermarks.set(view, ts);
  }

  async recordSync(view: string, rowsWritten: number): Promise<void> {
    const s = this.syncStats.get(view) ?? { view, runs: 0, rows: 0 };
    this.syncStats.set(view, { view, runs: s.runs + 1, rows: s.rows + rowsWritten });
  }

  async getSyncStats(): Promise<SyncStats[]> {
    this.check();
    return [...this.syncStats.values()];
  }

  async dropView(view: string): Promise<void> {
    this.rows.delete(view);
    this.layouts.delete(view);
    this.watermarks.delete(view);
  }

  async putApiKey(record: ApiKeyRecord): Promise<void> {
    this.keys.set(record.id, { ...record });
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    return [...this.keys.values()];
  }

  async findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    this.check();
    return [...this.keys.values()].find((k) => k.hash === hash);
  }

  async close(): Promise<void> {}
}
