/**
 * Raw events pushed into an aggregate view online (SPEC section 12): each entity's stored state is
 * read, the events merged into it (state.ts mergeEvent: only those inside the synced horizon; the
 * same row twice counts once), and written back with compare and set (OnlineStore.replace), so two
 * servers pushing to one entity at once both land: the one that loses the race reads again.
 */
import { OnlineStoreError } from '../../errors.js';
import { Timestamp, type Value } from '../../values.js';
import { AGGREGATE_STATE } from '../codec.js';
import { entityId } from '../keys.js';
import type { OnlineStore, StoredRow, ViewLayout } from '../store.js';
import { compile } from './row.js';
import { decodeState, emptyState, encodeState, mergeEvent, type AggInput, type AggregateState } from './state.js';

export interface PushedEvent {
  key: Value[];
  ts: Timestamp;
  /** per input column of the layout (layout.aggregate.inputs), in that order */
  values: (AggInput | null)[];
}

export interface AggregatePushResult {
  /** events now in their entity's state */
  merged: number;
  /** events the state already held (the same keys, time and values) */
  duplicate: number;
  /** events outside the synced horizon [s, s + H): before s the next fsql sync counts them, at or after s + H no served window does */
  outside: number;
}

/** Rounds of read, merge and compare and set before a push to an entity contended by other writers gives up. */
const MAX_ROUNDS = 20;
/** Where the state starts in a stored row's features: after the 8-character layout fingerprint (codec.ts). */
const FINGERPRINT = 8;

export async function pushEvents(store: OnlineStore, layout: ViewLayout, events: readonly PushedEvent[]): Promise<AggregatePushResult> {
  const aggregate = layout.aggregate;
  if (!aggregate) throw new Error(`pushEvents: '${layout.view}' is not an aggregate view`);
  // the layout's shape and types as serving compiled them once (a new shape per push would miss decodeState's per-shape getters)
  const { shape, types } = compile(layout).reader;
  const horizon = Math.round(aggregate.horizonSeconds * 1e6);
  const result: AggregatePushResult = { merged: 0, duplicate: 0, outside: 0 };

  const byEntity = new Map<string, { key: Value[]; events: PushedEvent[] }>();
  for (const e of events) {
    const id = entityId(layout, e.key);
    if (id === undefined) throw new Error('pushEvents: a pushed event has a NULL join key');
    const group = byEntity.get(id);
    if (group) group.events.push(e);
    else byEntity.set(id, { key: e.key, events: [e] });
  }
  let pending = [...byEntity.values()];
  let syncedAt: Timestamp | undefined;
  for (let round = 0; pending.length > 0; round++) {
    if (round === MAX_ROUNDS) throw new OnlineStoreError(`pushing to aggregate view '${layout.view}': ${pending.length} entities changed under every one of ${MAX_ROUNDS} attempts; push again.`);
    const rows = await store.read(pending.map((g) => ({ layout, key: g.key })));
    const changes: { row: { key: Value[]; ts: Timestamp; values: Record<string, Value> }; expected: StoredRow | undefined }[] = [];
    const counts: AggregatePushResult[] = [];
    const changed: typeof pending = [];
    for (let i = 0; i < pending.length; i++) {
      const stored = rows[i];
      // An entity without a state had no events before the sync: it starts empty at the view's sync time.
      syncedAt ??= stored ? undefined : await store.getWatermark(layout.view);
      const at = stored?.ts ?? syncedAt;
      if (!at) throw new OnlineStoreError(`aggregate view '${layout.view}' has not been synced: run fsql sync before pushing events to it.`);
      const state: AggregateState = stored ? decodeState(shape, types, stored.text, stored.at + FINGERPRINT, true) : emptyState(shape, Number(at.micros));
      const count: AggregatePushResult = { merged: 0, duplicate: 0, outside: 0 };
      for (const e of pending[i].events) count[mergeEvent(state, horizon, { ts: Number(e.ts.micros), values: e.values })]++;
      if (count.merged === 0) {
        add(result, count);
        continue;
      }
      changes.push({ row: { key: pending[i].key, ts: at, values: { [AGGREGATE_STATE]: encodeState(shape, state) } }, expected: stored });
      counts.push(count);
      changed.push(pending[i]);
    }
    const written = changes.length > 0 ? await store.replace(layout, changes) : [];
    pending = changed.filter((_g, i) => {
      if (written[i]) add(result, counts[i]);
      return !written[i];
    });
  }
  return result;
}

function add(into: AggregatePushResult, r: AggregatePushResult): void {
  into.merged += r.merged;
  into.duplicate += r.duplicate;
  into.outside += r.outside;
}
