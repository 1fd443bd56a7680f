/**
 * The server's one way to read: online/vector.ts's fetchRows (one store round trip for any number
 * of entities; only the cache's misses when `serve --cache-ttl` is on), timed into the store
 * latency histogram, then servedRows at the request's time for every entity, hit or miss.
 */
import type { OnlineStore } from '../online/store.js';
import { fetchRows, readSyncTimes, requestTime, servedRows, syncTimesNeeded, type ServedRow, type ServicePlan, type StoredRows } from '../online/vector.js';
import type { Timestamp, Value } from '../values.js';
import { seriesKey } from '../prometheus-text.js';
import type { Metrics } from './metrics.js';
import { cacheKey, type ReadCache } from './read-cache.js';

export class TimedReader {
  private readonly series = new Map<string, string>();
  /** per service, the fsql_served_views_total series of each view's outcomes (OUTCOMES order) */
  private readonly servedSeries = new Map<string, string[]>();
  /** per service, its aggregate views' sync times and when they were read */
  private readonly synced = new Map<string, { times: (Timestamp | undefined)[]; readAt: number }>();

  constructor(
    private readonly store: OnlineStore,
    private readonly metrics: Metrics,
    private readonly cache?: ReadCache,
  ) {}

  /** Per entity (join key values, plan.joinKeys order), one ServedRow per plan view at `now`; also returns the seconds the store read took. */
  async read(endpoint: string, plan: ServicePlan, keys: Value[][], now: Timestamp): Promise<{ rows: ServedRow[][]; seconds: number }> {
    const stored = new Array<StoredRows>(keys.length);
    let missing = keys;
    let cacheKeys: string[] | undefined;
    let misses: number[] | undefined;
    if (this.cache) {
      cacheKeys = keys.map((k) => cacheKey(plan, k));
      misses = [];
      for (let e = 0; e < keys.length; e++) {
        const hit = this.cache.get(plan, cacheKeys[e], now.millis);
        if (hit) stored[e] = hit;
        else misses.push(e);
      }
      this.metrics.incKey(CACHE_HITS, keys.length - misses.length);
      this.metrics.incKey(CACHE_MISSES, misses.length);
      missing = misses.map((e) => keys[e]);
    }
    let seconds = 0;
    if (missing.length > 0) {
      const t0 = process.hrtime.bigint();
      let read: StoredRows[];
      try {
        read = await fetchRows(this.store, plan, missing);
      } catch (e) {
        this.metrics.inc('fsql_online_store_errors_total', { endpoint });
        throw e;
      }
      seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      this.metrics.observeKey(this.latencySeries(endpoint), seconds);
      if (misses) {
        misses.forEach((e, i) => {
          stored[e] = read[i];
          this.cache!.set(plan, cacheKeys![e], read[i], now.millis);
        });
      } else {
        for (let e = 0; e < read.length; e++) stored[e] = read[e];
      }
    }
    const at = requestTime(plan, now, syncTimesNeeded(plan, stored) ? await this.syncTimes(plan, now) : []);
    const rows = stored.map((r) => servedRows(r, at));
    this.countServed(plan, rows);
    return { rows, seconds };
  }

  /**
   * The aggregate views' last sync times (needed for an entity without a state), read from the
   * store at most once per SYNC_TIMES_MS of the server's clock per service: a sync moves them a
   * few times a day, and a request that finds no state must not cost a second round trip each.
   */
  private async syncTimes(plan: ServicePlan, now: Timestamp): Promise<(Timestamp | undefined)[]> {
    const hit = this.synced.get(plan.service);
    if (hit && now.millis - hit.readAt < SYNC_TIMES_MS && now.millis >= hit.readAt) return hit.times;
    try {
      const times = await readSyncTimes(this.store, plan);
      this.synced.set(plan.service, { times, readAt: now.millis });
      return times;
    } catch (e) {
      this.metrics.inc('fsql_online_store_errors_total', { endpoint: 'sync times' });
      throw e;
    }
  }

  /** Completeness: per service and view, values served PRESENT, and MISSING_DATA by reason (no row, expired, dated after now). */
  private countServed(plan: ServicePlan, rows: ServedRow[][]): void {
    let keys = this.servedSeries.get(plan.service);
    if (!keys) {
      keys = plan.views.flatMap((v) => OUTCOMES.map((status) => seriesKey('fsql_served_views_total', { service: plan.service, feature_view: v.layout.view, status })));
      this.servedSeries.set(plan.service, keys);
    }
    const counts = new Array<number>(keys.length).fill(0);
    for (const served of rows) {
      for (let j = 0; j < served.length; j++) counts[j * OUTCOMES.length + OUTCOMES.indexOf(served[j].reason ?? 'present')]++;
    }
    for (let k = 0; k < counts.length; k++) if (counts[k] > 0) this.metrics.incKey(keys[k], counts[k]);
  }

  private latencySeries(endpoint: string): string {
    let key = this.series.get(endpoint);
    if (!key) {
      key = seriesKey('fsql_online_store_read_duration_seconds', { endpoint });
      this.series.set(endpoint, key);
    }
    return key;
  }
}

/** What a view gave an entity at request time: its row, or why not (vector.ts MissingReason). */
const OUTCOMES = ['present', 'not_found', 'expired', 'future'] as const;

/** How long the server trusts the aggregate views' sync times it read (server clock). */
const SYNC_TIMES_MS = 1000;

const CACHE_HITS = seriesKey('fsql_cache_requests_total', { result: 'hit' });
const CACHE_MISSES = seriesKey('fsql_cache_requests_total', { result: 'miss' });
