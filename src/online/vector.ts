/**
 * Reading a feature service's vector for one entity (or a batch of them) from the online store,
 * with names, types, effective times and statuses. Shared by `fsql get` and the HTTP server.
 *
 *   const plan = planService(service, await store.getLayouts());   // once per service / layout change
 *   const [vector] = await readVectors(store, plan, [{ user_id: 'u_1', merchant_id: 'm_7' }], { now });
 *
 * One store read per call, whatever the batch size: one round trip.
 */
import { OnlineStoreError } from '../errors.js';
import { Timestamp, type DataType, type Value } from '../values.js';
import { oldestValidMicros } from './codec.js';
import { parseJoinKeyMap } from './join-keys.js';
import type { OnlineStore, StoredRow, ViewLayout } from './store.js';

export type FeatureStatus = 'PRESENT' | 'MISSING_DATA';

/** Why a view's features are MISSING_DATA for an entity: no row, or the row is older than the view's TTL (or dated after now). */
export type MissingReason = 'not_found' | 'expired' | 'future';

/** One view's row for one entity at request time: served when `reason` is undefined. */
export interface ServedRow {
  row?: StoredRow;
  reason?: MissingReason;
}

export interface FeatureValue {
  /** `<view>.<feature>` */
  name: string;
  view: string;
  feature: string;
  type: DataType;
  /** null when MISSING_DATA */
  value: Value;
  /** the feature timestamp of the row served; undefined when no row was found */
  effectiveTime?: Timestamp;
  status: FeatureStatus;
  /** why MISSING_DATA */
  reason?: MissingReason;
}

/** A service as the project or the manifest describes it; `features` undefined or null: all of the view's. */
export interface ServiceSpec {
  name: string;
  features: { view: string; features?: string[] | null }[];
}

export interface ServicePlan {
  service: string;
  /** every join key the service's views need, in first-seen order, with its type */
  joinKeys: { name: string; type: DataType }[];
  /** the features in response order: alphabetical by `<view>.<feature>` */
  features: { name: string; view: string; feature: string; type: DataType }[];
  /**
   * One entry per view read: which features (indexes into `features`) it gives, and per feature
   * of its layout that feature's index in `features`, or -1 when the service does not use it.
   */
  views: { layout: ViewLayout; featureIndexes: number[]; slots: Int32Array; keyPositions: number[] }[];
  /** per feature, the index in `views` of the view that gives it */
  featureViews: number[];
}

/** Resolves a service against the stored layouts. Throws OnlineStoreError when a view was never synced. */
export function planService(service: ServiceSpec, layouts: ViewLayout[] | ReadonlyMap<string, ViewLayout>): ServicePlan {
  const byView: ReadonlyMap<string, ViewLayout> = Array.isArray(layouts) ? new Map(layouts.map((l) => [l.view, l])) : (layouts as ReadonlyMap<string, ViewLayout>);
  const joinKeys: ServicePlan['joinKeys'] = [];
  const features: ServicePlan['features'] = [];
  for (const ref of service.features) {
    const layout = byView.get(ref.view);
    if (!layout) {
      throw new OnlineStoreError(`feature service '${service.name}': view '${ref.view}' has never been synced to this online store; run: fsql sync --select ${ref.view}`);
    }
    for (const k of layout.joinKeys) {
      const seen = joinKeys.find((j) => j.name === k.name);
      if (!seen) joinKeys.push({ name: k.name, type: k.type });
    }
    const wanted = ref.features ?? layout.features.map((f) => f.name);
    for (const f of wanted) {
      const feature = layout.features.find((x) => x.name === f);
      if (!feature) {
        throw new OnlineStoreError(`feature service '${service.name}': feature '${f}' of view '${ref.view}' is not in the online store (it holds ${layout.features.map((x) => x.name).join(', ')}); run: fsql sync --select ${ref.view}`);
      }
      if (!features.some((x) => x.view === ref.view && x.feature === f)) features.push({ name: `${ref.view}.${f}`, view: ref.view, feature: f, type: feature.type });
    }
  }
  features.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const views = [...new Set(features.map((f) => f.view))].map((v) => {
    const layout = byView.get(v)!;
    const featureIndexes = features.flatMap((f, i) => (f.view === v ? [i] : []));
    const slots = Int32Array.from(layout.features, (x) => features.findIndex((f) => f.view === v && f.feature === x.name));
    // per join key of the view, its index in joinKeys (how an entity's key values are read)
    const keyPositions = layout.joinKeys.map((k) => joinKeys.findIndex((j) => j.name === k.name));
    return { layout, featureIndexes, slots, keyPositions };
  });
  const featureViews = features.map((f) => views.findIndex((v) => v.layout.view === f.view));
  return { service: service.name, joinKeys, features, views, featureViews };
}

/** What the store holds for one entity: per entry of plan.views, its row or undefined. */
export type StoredRows = (StoredRow | undefined)[];

/**
 * Reads what the store holds for many entities (their join key values in plan.joinKeys order,
 * join-keys.ts) in one round trip: per entity, one entry per plan.views.
 */
export async function fetchRows(store: OnlineStore, plan: ServicePlan, keys: readonly Value[][]): Promise<StoredRows[]> {
  const requests: { layout: ViewLayout; key: Value[] }[] = [];
  for (const entity of keys) for (const v of plan.views) requests.push({ layout: v.layout, key: v.keyPositions.map((p) => entity[p]) });
  const rows = requests.length > 0 ? await store.read(requests) : [];
  const n = plan.views.length;
  const out = new Array<StoredRows>(keys.length);
  for (let e = 0; e < keys.length; e++) out[e] = rows.slice(e * n, e * n + n);
  return out;
}

/** A request's time as the rule reads it: `now` in microseconds and, per plan view, the oldest timestamp still valid (undefined: no TTL). */
export interface RequestTime {
  now: bigint;
  oldest: (bigint | undefined)[];
}

export function requestTime(plan: ServicePlan, now: Timestamp): RequestTime {
  return { now: now.micros, oldest: plan.views.map((v) => oldestValidMicros(v.layout, now.micros)) };
}

/**
 * What is served of one entity's stored rows at the request's time: the rule of SPEC section 4
 * (ts <= now and, with a TTL, ts >= now - ttl). This is the only place that decides what is
 * served; the stores return what they hold (they may have removed expired rows already), and a
 * cache of stored rows (serving/read-cache.ts) is decided anew for each request.
 */
export function servedRows(rows: StoredRows, at: RequestTime): ServedRow[] {
  const n = at.oldest.length;
  const served = new Array<ServedRow>(n);
  for (let j = 0; j < n; j++) {
    const row = rows[j];
    served[j] = { row, reason: rowState(row, at.now, at.oldest[j]) };
  }
  return served;
}

/** One entity's vector, typed, from its rows (servedRows). */
export function typedVector(plan: ServicePlan, served: ServedRow[]): FeatureValue[] {
  const vector = new Array<FeatureValue>(plan.features.length);
  for (let j = 0; j < plan.views.length; j++) {
    const { row, reason } = served[j];
    for (const i of plan.views[j].featureIndexes) {
      const f = plan.features[i];
      vector[i] = {
        name: f.name,
        view: f.view,
        feature: f.feature,
        type: f.type,
        value: reason === undefined ? (row!.values[f.feature] ?? null) : null,
        effectiveTime: row?.ts,
        status: reason === undefined ? 'PRESENT' : 'MISSING_DATA',
        reason,
      };
    }
  }
  return vector;
}

export interface ReadOptions {
  /** the request time TTLs are checked against (default: now) */
  now?: Timestamp;
}

/**
 * Reads the vectors of many entities in one store round trip; one FeatureValue[] per join key map
 * (names to values, join-keys.ts), in order.
 */
export async function readVectors(store: OnlineStore, plan: ServicePlan, joinKeyMaps: Record<string, unknown>[], opts: ReadOptions = {}): Promise<FeatureValue[][]> {
  const keys = joinKeyMaps.map((m, i) => parseJoinKeyMap(plan.joinKeys, m, joinKeyMaps.length > 1 ? `entity ${i}` : 'join keys', plan.service));
  const at = requestTime(plan, opts.now ?? Timestamp.fromMillis(Date.now()));
  return (await fetchRows(store, plan, keys)).map((rows) => typedVector(plan, servedRows(rows, at)));
}

export async function readVector(store: OnlineStore, plan: ServicePlan, joinKeyMap: Record<string, unknown>, opts: ReadOptions = {}): Promise<FeatureValue[]> {
  return (await readVectors(store, plan, [joinKeyMap], opts))[0];
}

/** undefined when the row is served; else why not (SPEC section 4 with t = now: ts <= now and, with a TTL, ts >= now - ttl). */
function rowState(row: StoredRow | undefined, now: bigint, oldestValid: bigint | undefined): MissingReason | undefined {
  if (!row) return 'not_found';
  if (row.ts.micros > now) return 'future';
  if (oldestValid !== undefined && row.ts.micros < oldestValid) return 'expired';
  return undefined;
}
