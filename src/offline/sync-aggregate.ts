/**
 * `fsql sync` of an aggregate view (SPEC section 9, "Online"): per entity, the state that lets the
 * server compute every window exactly for any request time from the sync time s to s + sync_horizon
 * (plans/aggregate-online.ts). The warehouse computes it (dialects/aggregate-online.ts) in one query
 * ordered by entity; each entity's rows become one state (online/aggregate/state.ts), written as the
 * entity's row of the view with ts = s, so a later sync's state replaces an earlier one under the
 * monotonic rule, and the store expires it at s + horizon (the layout's TTL is the horizon).
 *
 * Every sync writes the state of every entity with a row its windows can hold during the horizon.
 * One without (its rows all older) is served the empty state at s, as train gives it (0, [],
 * NULL), or until it expires, a state of an earlier sync, exact until its own horizon ends.
 * Crash-safe as the other views: a killed sync leaves states of an earlier s, each exact until
 * its own horizon ends, and the watermark (s) is written last.
 */
import type { Compilation } from '../compiler/compile.js';
import { renderAggregateSync } from '../dialects/aggregate-online.js';
import { FsqlError } from '../errors.js';
import type { Logger } from '../log.js';
import { featureType, inputColumns } from '../plans/aggregate.js';
import { DEFAULT_CHUNK_ROWS, DEFAULT_INFLIGHT, Inflight } from './inflight-writes.js';
import { stateShape, SYNC_CLOCK_MARGIN_MS, type AggregateSyncPlan, type OnlineAggFeature } from '../plans/aggregate-online.js';
import type { ViewDef } from '../project/types.js';
import { Timestamp, type Column, type DataType, type ScalarType, type Value } from '../values.js';
import { valueAt } from '../column-batch.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { AGGREGATE_STATE, STATE_ENCODING } from '../online/codec.js';
import { startViewSync } from './sync-start.js';
import { encodeState, StateBuilder } from '../online/aggregate/state.js';
import type { OnlineRow, OnlineStore, ViewLayout, WriteResult } from '../online/store.js';

/** The entities written per store batch. */
const BATCH = 1000;

interface AggregateSync {
  layout: ViewLayout;
  plan: AggregateSyncPlan;
  sql: string;
}

/** The layout and the sync query of an aggregate view at sync time `at`, from its events table's columns. */
function planAggregateSync(c: Compilation, view: ViewDef, columns: Column[], at: Timestamp, wh: Pick<Warehouse, 'dialect'>): AggregateSync {
  const spec = view.config.aggregate!;
  const find = (name: string) => {
    const col = columns.find((x) => x.name.toLowerCase() === name.toLowerCase());
    if (!col) throw new FsqlError(`${view.file}: the aggregate view's events table has no column '${name}' (columns: ${columns.map((x) => x.name).join(', ')}); run fsql run --select ${view.name} again.`);
    return col;
  };
  const keys = view.joinKeys.map(find);
  const ts = find(view.config.timestamp);
  const inputs = inputColumns(spec).map((name) => {
    const col = find(name);
    if (col.type.type === 'array') throw new FsqlError(`${view.file}: aggregation input '${name}' is an array; aggregate a scalar column.`);
    return { name, type: col.type.type as ScalarType };
  });
  const horizonSeconds = spec.syncHorizonSeconds;
  const features: OnlineAggFeature[] = spec.features.map((f) => ({ name: f.name, function: f.function, column: f.column, ...(f.windowSeconds !== undefined ? { windowSeconds: f.windowSeconds } : {}), ...(f.n !== undefined ? { n: f.n } : {}) }));
  const typeOf = (f: OnlineAggFeature): DataType => featureType(f, inputs.find((x) => x.name === f.column)?.type);
  const layout: ViewLayout = {
    view: view.name,
    joinKeys: view.joinKeys.map((k, i) => ({ name: k, type: keys[i].type })),
    features: features.map((f) => ({ name: f.name, type: typeOf(f) })),
    ttlSeconds: horizonSeconds,
    aggregate: { horizonSeconds, inputs, features, encoding: STATE_ENCODING },
  };
  const plan: AggregateSyncPlan = {
    view: view.name,
    events: c.manifest.views[view.name].table,
    keys: keys.map((k) => k.name),
    timestamp: ts.name,
    shape: stateShape(features),
    inputTypes: inputs.map((x) => x.type),
    at,
    horizonSeconds,
  };
  return { layout, plan, sql: renderAggregateSync(plan, wh.dialect) };
}

export interface AggregateSyncResult {
  rowsRead: number;
  written: number;
  stale: number;
  fullRefresh: boolean;
  previousWatermark?: Timestamp;
  watermark: Timestamp;
  /** bytes of the stored states, summed over entities */
  stateBytes: number;
}

export async function syncAggregateView(
  c: Compilation,
  wh: Warehouse,
  store: OnlineStore,
  log: Logger,
  view: ViewDef,
  stored: ViewLayout | undefined,
  opts: { fullRefresh?: boolean; now?: Timestamp; chunkRows?: number; inflight?: number; onProgress?: (view: string, rowsRead: number) => void },
): Promise<AggregateSyncResult> {
  const at = opts.now ?? Timestamp.fromMillis(Date.now() - SYNC_CLOCK_MARGIN_MS);
  const { table, relation } = c.manifest.views[view.name];
  const columns = await wh.describe(table);
  if (!columns) throw new FsqlError(`${view.file}: the aggregate view's events table ${relation} does not exist; build it first with: fsql run --select ${view.name}`);
  const { layout, plan, sql } = planAggregateSync(c, view, columns, at, wh);
  const { fullRefresh, previous } = await startViewSync(store, log, layout, stored, opts.fullRefresh);

  const result: AggregateSyncResult = { rowsRead: 0, written: 0, stale: 0, fullRefresh, previousWatermark: previous, watermark: at, stateBytes: 0 };
  const builder = new StateBuilder(plan.shape, Number(at.micros));
  const keyNames = plan.keys;
  let current: Value[] | undefined;
  let pendingRows: OnlineRow[] = [];
  const tally = (w: WriteResult) => {
    result.written += w.written;
    result.stale += w.stale;
  };
  const inflight = new Inflight(opts.inflight ?? DEFAULT_INFLIGHT, tally);
  const flushBatch = async () => {
    if (pendingRows.length === 0) return;
    await inflight.add(store.write(layout, pendingRows));
    opts.onProgress?.(view.name, result.rowsRead);
    pendingRows = [];
  };
  const finishEntity = () => {
    if (!current) return;
    const text = encodeState(plan.shape, builder.finish());
    result.stateBytes += text.length;
    pendingRows.push({ key: current, ts: at, values: { [AGGREGATE_STATE]: text } });
    result.rowsRead++;
  };
  try {
    for await (const batch of wh.streamColumns(sql, { chunkRows: opts.chunkRows ?? DEFAULT_CHUNK_ROWS, label: view.file })) {
      const keyColumns = keyNames.map((k) => {
        const i = batch.names.indexOf(k);
        if (i < 0) throw new FsqlError(`${view.file}: the aggregate sync query returned no column '${k}'; run fsql run --select ${view.name} again.`);
        return batch.columns[i];
      });
      for (let r = 0; r < batch.rows; r++) {
        const key = keyColumns.map((c) => valueAt(c, r));
        if (!current || !sameKey(current, key)) {
          finishEntity();
          current = key;
          if (pendingRows.length >= BATCH) await flushBatch();
        }
        builder.add(batch, r);
      }
    }
    finishEntity();
    await flushBatch();
    await inflight.drain();
  } catch (e) {
    await inflight.settle();
    throw e;
  }
  tally(await store.flush());
  await store.setWatermark(view.name, at);
  return result;
}

function sameKey(a: Value[], b: Value[]): boolean {
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (x instanceof Timestamp && y instanceof Timestamp && x.micros === y.micros) continue;
    return false;
  }
  return true;
}
