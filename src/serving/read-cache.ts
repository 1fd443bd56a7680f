/**
 * The hot-key cache of `serve --cache-ttl` (SPEC section 6): per (service, join key values), what
 * the store returned, for `ttlMs` of the server's clock, at most `size` entries, least recently
 * used out first. It holds stored rows, not answers: TTLs and statuses are decided again for each
 * request's own time (online/vector.ts servedRows), so a hit can only be up to `ttlMs` older than
 * the store, never wrong for the moment it is served. An entry belongs to the plan it was read
 * for; after a catalogue reload (another layout) it is a miss.
 */
import type { ServicePlan, StoredRows } from '../online/vector.js';
import { Timestamp, type Value } from '../values.js';

interface Entry {
  plan: ServicePlan;
  rows: StoredRows;
  /** the clock's milliseconds when the rows were read */
  at: number;
}

export interface CacheOptions {
  ttlMs: number;
  size: number;
}

export class ReadCache {
  /** insertion order is recency order: a hit moves its entry to the end */
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly opts: CacheOptions) {}

  /** The rows cached for this entity, or undefined (absent, too old, or read for another plan). */
  get(plan: ServicePlan, key: string, nowMs: number): StoredRows | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    this.entries.delete(key);
    if (e.plan !== plan || nowMs - e.at >= this.opts.ttlMs) return undefined;
    this.entries.set(key, e);
    return e.rows;
  }

  set(plan: ServicePlan, key: string, rows: StoredRows, nowMs: number): void {
    this.entries.delete(key);
    this.entries.set(key, { plan, rows, at: nowMs });
    if (this.entries.size > this.opts.size) this.entries.delete(this.entries.keys().next().value!);
  }

  get size(): number {
    return this.entries.size;
  }
}

/** An entity's cache key: the service and its join key values (their types are the service's, so text is unambiguous; null apart). */
export function cacheKey(plan: ServicePlan, keys: readonly Value[]): string {
  let out = plan.service;
  for (const v of keys) out += v === null ? '\u0000\u0001' : `\u0000${v instanceof Timestamp ? v.micros : Array.isArray(v) ? JSON.stringify(v) : String(v)}`;
  return out;
}
