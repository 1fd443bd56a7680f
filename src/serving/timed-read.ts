/**
 * The server's one way to read: online/vector.ts's readRows (one store round trip for any number
 * of entities, the TTL rule at request time), timed into the store latency histogram.
 */
import type { OnlineStore } from '../online/store.js';
import { readRows, type ServedRow, type ServicePlan } from '../online/vector.js';
import type { Timestamp, Value } from '../values.js';
import { seriesKey, type Metrics } from './metrics.js';

export class TimedReader {
  private readonly series = new Map<string, string>();

  constructor(
    private readonly store: OnlineStore,
    private readonly metrics: Metrics,
  ) {}

  /** Per entity (join key values, plan.joinKeys order), one ServedRow per plan view at `now`; also returns the seconds the read took. */
  async read(endpoint: string, plan: ServicePlan, keys: Value[][], now: Timestamp): Promise<{ rows: ServedRow[][]; seconds: number }> {
    const t0 = process.hrtime.bigint();
    let rows: ServedRow[][];
    try {
      rows = await readRows(this.store, plan, keys, now);
    } catch (e) {
      this.metrics.inc('fsql_online_store_errors_total', { endpoint });
      throw e;
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    let key = this.series.get(endpoint);
    if (!key) {
      key = seriesKey('fsql_online_store_read_duration_seconds', { endpoint });
      this.series.set(endpoint, key);
    }
    this.metrics.observeKey(key, seconds);
    return { rows, seconds };
  }
}
