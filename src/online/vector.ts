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
import { compileEvaluator, type Evaluator } from '../expressions/evaluate.js';
import type { OnDemandSpec } from './on-demand-plan.js';
import { aggregateRowAt } from './aggregate/row.js';
import { parseRequestContext, type RequestField } from './request-fields.js';

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
  /** per feature, the index in `views` of the view that gives it; -1 for an on-demand feature */
  featureViews: number[];
  /** request fields the on-demand features read (a request's `request_context_map`), in first-use order */
  requestFields: RequestField[];
  /** per on-demand view, its compiled outputs: written at `index` of the features */
  onDemand: { view: string; inputs: OnDemandInput[]; outputs: { index: number; evaluate: Evaluator }[] }[];
}

/** Where an on-demand input comes from: a request field, or a feature of one of plan.views. */
export type OnDemandInput = { field: number } | { viewIndex: number; feature: string };

/** Resolves a service against the stored layouts. Throws OnlineStoreError when a view was never synced. */
export function planService(service: ServiceSpec, layouts: ViewLayout[] | ReadonlyMap<string, ViewLayout>, onDemand: readonly OnDemandSpec[] = []): ServicePlan {
  const byView: ReadonlyMap<string, ViewLayout> = Array.isArray(layouts) ? new Map(layouts.map((l) => [l.view, l])) : (layouts as ReadonlyMap<string, ViewLayout>);
  const joinKeys: ServicePlan['joinKeys'] = [];
  const features: ServicePlan['features'] = [];
  const addKeys = (layout: ViewLayout) => {
    for (const k of layout.joinKeys) if (!joinKeys.some((j) => j.name === k.name)) joinKeys.push({ name: k.name, type: k.type });
  };
  for (const ref of service.features) {
    if (onDemand.some((o) => o.view === ref.view)) continue;
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
  // on-demand outputs, typed at planning; their input views are read with the others
  const inputViews: string[] = [];
  for (const o of onDemand) {
    for (const f of o.features) {
      const item = o.typed.items.find((i) => i.name === f)!;
      features.push({ name: `${o.view}.${f}`, view: o.view, feature: f, type: { type: item.type } });
    }
    for (const input of o.typed.inputs) {
      if (input.view && !inputViews.includes(input.view)) {
        inputViews.push(input.view);
        addKeys(byView.get(input.view)!);
      }
    }
  }
  features.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const stored = features.filter((f) => byView.has(f.view) && !onDemand.some((o) => o.view === f.view)).map((f) => f.view);
  const views = [...new Set([...stored, ...inputViews])].map((v) => {
    const layout = byView.get(v)!;
    const featureIndexes = features.flatMap((f, i) => (f.view === v ? [i] : []));
    const slots = Int32Array.from(layout.features, (x) => features.findIndex((f) => f.view === v && f.feature === x.name));
    // per join key of the view, its index in joinKeys (how an entity's key values are read)
    const keyPositions = layout.joinKeys.map((k) => joinKeys.findIndex((j) => j.name === k.name));
    return { layout, featureIndexes, slots, keyPositions };
  });
  const featureViews = features.map((f) => views.findIndex((v) => v.layout.view === f.view));
  const requestFields: RequestField[] = [];
  const plans = onDemand.map((o) => ({
    view: o.view,
    inputs: o.typed.inputs.map((input): OnDemandInput => {
      if (input.view) return { viewIndex: views.findIndex((v) => v.layout.view === input.view), feature: input.name };
      let field = requestFields.findIndex((r) => r.name === input.name);
      if (field < 0) field = requestFields.push({ name: input.name, type: { type: input.type } }) - 1;
      return { field };
    }),
    outputs: o.features.map((f) => ({
      index: features.findIndex((x) => x.view === o.view && x.feature === f),
      evaluate: compileEvaluator(o.typed.items.find((i) => i.name === f)!.expr),
    })),
  }));
  return { service: service.name, joinKeys, features, views, featureViews, requestFields, onDemand: plans };
}

/**
 * Computes the on-demand features of one entity from its served rows (a view's features are NULL
 * where it is MISSING_DATA) and the request's fields (plan.requestFields order); `put` receives
 * each output's index in plan.features and its value.
 */
export function evaluateOnDemand(plan: ServicePlan, served: readonly ServedRow[], request: readonly Value[], put: (index: number, value: Value) => void): void {
  for (const o of plan.onDemand) {
    const args = o.inputs.map((input) => {
      if ('field' in input) return request[input.field] ?? null;
      const { row, reason } = served[input.viewIndex];
      return reason === undefined ? (row!.values[input.feature] ?? null) : null;
    });
    for (const out of o.outputs) put(out.index, out.evaluate(args));
  }
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
  /** the plan's views: an aggregate view's rows are computed at `now` (its TTL is its sync_horizon) */
  views: ServicePlan['views'];
  /** per plan view, an aggregate view's last sync time where it was read (syncTimesNeeded): an entity without a state is served empty windows then */
  synced: (Timestamp | undefined)[];
}

/** `synced`: per plan view, the aggregate views' last sync times (the store's watermarks), where read. */
export function requestTime(plan: ServicePlan, now: Timestamp, synced: (Timestamp | undefined)[] = []): RequestTime {
  return { now: now.micros, oldest: plan.views.map((v) => oldestValidMicros(v.layout, now.micros)), views: plan.views, synced };
}

/** Whether serving these rows needs the aggregate views' sync times: an entity has no state in one. */
export function syncTimesNeeded(plan: ServicePlan, rows: readonly StoredRows[]): boolean {
  return plan.views.some((v, j) => v.layout.aggregate !== undefined && rows.some((r) => r[j] === undefined));
}

/** The aggregate views' last sync times, per plan view (one store read each). */
export async function readSyncTimes(store: OnlineStore, plan: ServicePlan): Promise<(Timestamp | undefined)[]> {
  return Promise.all(plan.views.map((v) => (v.layout.aggregate ? store.getWatermark(v.layout.view) : undefined)));
}

/**
 * What is served of one entity's stored rows at the request's time: the rule of SPEC section 4
 * (ts <= now and, with a TTL, ts >= now - ttl). An aggregate view's row is its state synced at ts
 * with the TTL its sync_horizon, so the same rule serves it only for now in [s, s + horizon], where
 * its windows are exact (SPEC section 9), and its features are computed at now. This is the only place that decides what is
 * served; the stores return what they hold (they may have removed expired rows already), and a
 * cache of stored rows (serving/read-cache.ts) is decided anew for each request.
 */
export function servedRows(rows: StoredRows, at: RequestTime): ServedRow[] {
  const n = at.oldest.length;
  const served = new Array<ServedRow>(n);
  for (let j = 0; j < n; j++) {
    const row = rows[j];
    // an aggregate view's row is its entity's window state, served as its features at this time;
    // an entity without one had no row its windows hold at the sync: they are empty from the sync on
    const { layout } = at.views[j];
    const synced = layout.aggregate && !row ? at.synced[j] : undefined;
    const reason = rowState(synced ? { ts: synced } : row, at.now, at.oldest[j]);
    served[j] = { row: layout.aggregate && reason === undefined ? aggregateRowAt(layout, row, at.now, synced) : row, reason };
  }
  return served;
}

/** One entity's vector, typed, from its rows (servedRows). */
export function typedVector(plan: ServicePlan, served: ServedRow[], request: readonly Value[] = []): FeatureValue[] {
  const vector = new Array<FeatureValue>(plan.features.length);
  evaluateOnDemand(plan, served, request, (i, value) => {
    const f = plan.features[i];
    vector[i] = { name: f.name, view: f.view, feature: f.feature, type: f.type, value, status: 'PRESENT' };
  });
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
  /** per entity, its request fields (name to value) for on-demand features */
  requests?: Record<string, unknown>[];
}

/**
 * Reads the vectors of many entities in one store round trip; one FeatureValue[] per join key map
 * (names to values, join-keys.ts), in order.
 */
export async function readVectors(store: OnlineStore, plan: ServicePlan, joinKeyMaps: Record<string, unknown>[], opts: ReadOptions = {}): Promise<FeatureValue[][]> {
  const keys = joinKeyMaps.map((m, i) => parseJoinKeyMap(plan.joinKeys, m, joinKeyMaps.length > 1 ? `entity ${i}` : 'join keys', plan.service));
  const requests = joinKeyMaps.map((_m, i) => parseRequestContext(plan.requestFields, opts.requests?.[i] ?? {}, joinKeyMaps.length > 1 ? `entity ${i}` : 'request', plan.service));
  const rows = await fetchRows(store, plan, keys);
  const at = requestTime(plan, opts.now ?? Timestamp.fromMillis(Date.now()), syncTimesNeeded(plan, rows) ? await readSyncTimes(store, plan) : []);
  return rows.map((r, i) => typedVector(plan, servedRows(r, at), requests[i]));
}

export async function readVector(store: OnlineStore, plan: ServicePlan, joinKeyMap: Record<string, unknown>, opts: ReadOptions = {}): Promise<FeatureValue[]> {
  return (await readVectors(store, plan, [joinKeyMap], opts))[0];
}

/** undefined when the row is served; else why not (SPEC section 4 with t = now: ts <= now and, with a TTL, ts >= now - ttl). */
function rowState(row: Pick<StoredRow, 'ts'> | undefined, now: bigint, oldestValid: bigint | undefined): MissingReason | undefined {
  if (!row) return 'not_found';
  if (row.ts.micros > now) return 'future';
  if (oldestValid !== undefined && row.ts.micros < oldestValid) return 'expired';
  return undefined;
}
