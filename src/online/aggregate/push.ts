/**
 * Raw events pushed into an aggregate view online (SPEC section 12). Each entity's events are
 * appended to its pushed-event log (pushed.ts) in one round trip, with nothing read or decoded:
 * every read merges them into the state (the same row twice counts once there). Each time an
 * entity's log grows past a multiple of FOLD_BYTES it is folded into its state: read, merged,
 * written back with compare and set (OnlineStore.replace), and the log as read replaced by its
 * events of the last two minutes in the same step, so two servers pushing to one entity at once both
 * land and a fold never loses an event appended meanwhile.
 */
import { OnlineStoreError } from '../../errors.js';
import { SYNC_CLOCK_MARGIN_MS } from '../../plans/aggregate-online.js';
import { Timestamp, type Value } from '../../values.js';
import { AGGREGATE_STATE } from '../codec.js';
import { entityId } from '../keys.js';
import type { OnlineRow, OnlineStore, PushedEntry, Replacement, ViewLayout } from '../store.js';
import { decodePushed, encodeRawEntries } from './pushed.js';
import { compile, storedState } from './row.js';
import { emptyState, encodeState, type AggInput, type RawRow } from './state.js';

export interface PushedEvent {
  key: Value[];
  ts: Timestamp;
  /** per input column of the layout (layout.aggregate.inputs), in that order */
  values: (AggInput | null)[];
}

export interface AggregatePushResult {
  /** events appended to their entity's events (a row pushed again is appended again, and counts once when served) */
  accepted: number;
  /** events outside the synced horizon [s, s + H) of the view's last sync s: before s the next fsql sync counts them, at or after s + H no served window does */
  outside: number;
}

/**
 * A log is folded into the state each time it grows past a multiple of this (bytes, about 100
 * events of a few input columns): every read merges the log, and with pushed events it decodes C's
 * distinct values too.
 */
export const FOLD_BYTES = 4096;
/** Rounds of read, merge and compare and set before a fold of an entity contended by other writers gives up. */
const MAX_ROUNDS = 20;
/**
 * A fold leaves the log's events of twice the sync's clock margin in it, besides the state (where
 * reads count them once): a sync dates its states that margin before its clock, and a state it
 * writes over a fresh fold must not take events after its own time with the old one.
 */
const KEEP_RECENT_MICROS = 2 * SYNC_CLOCK_MARGIN_MS * 1000;

/** `now`: the server's time, which tells a fold which events are recent. */
export async function pushEvents(store: OnlineStore, layout: ViewLayout, events: readonly PushedEvent[], now: Timestamp): Promise<AggregatePushResult> {
  const aggregate = layout.aggregate;
  if (!aggregate) throw new Error(`pushEvents: '${layout.view}' is not an aggregate view`);
  const syncedAt = await store.getWatermark(layout.view);
  if (!syncedAt) throw new OnlineStoreError(`aggregate view '${layout.view}' has not been synced: run fsql sync before pushing events to it.`);
  const { shape } = compile(layout).reader;
  const s = Number(syncedAt.micros);
  const horizon = Math.round(aggregate.horizonSeconds * 1e6);
  const result: AggregatePushResult = { accepted: 0, outside: 0 };

  const byEntity = new Map<string, { key: Value[]; events: RawRow[]; latest: number }>();
  for (const e of events) {
    const ts = Number(e.ts.micros);
    if (ts < s || ts >= s + horizon) {
      result.outside++;
      continue;
    }
    const id = entityId(layout, e.key);
    if (id === undefined) throw new Error('pushEvents: a pushed event has a NULL join key');
    const event = { ts, values: e.values };
    const group = byEntity.get(id);
    if (group) {
      group.events.push(event);
      group.latest = Math.max(group.latest, ts);
    } else byEntity.set(id, { key: e.key, events: [event], latest: ts });
    result.accepted++;
  }
  if (byEntity.size === 0) return result;
  const groups = [...byEntity.values()];
  // an event counts until its horizon ends: a later sync's state starts at or before it, or after it (then it is the offline path's)
  const entries: PushedEntry[] = groups.map((g) => ({ key: g.key, text: encodeRawEntries(g.events), keepUntil: Math.ceil((g.latest + horizon) / 1000) }));
  const empty: OnlineRow = { key: [], ts: syncedAt, values: { [AGGREGATE_STATE]: encodeState(shape, emptyState(shape, s)) } };
  const lengths = await store.appendPushed(layout, empty, entries);
  // a fold at each FOLD_BYTES a log grows by: a log of recent events (a burst) stays long, and is not read again at every push
  const crossed = (length: number, added: number) => Math.floor(length / FOLD_BYTES) > Math.floor((length - added) / FOLD_BYTES);
  const long = groups.filter((_g, i) => crossed(lengths[i], entries[i].text.length)).map((g) => g.key);
  if (long.length > 0) await foldPushed(store, layout, long, Number(now.micros) - KEEP_RECENT_MICROS);
  return result;
}

/**
 * Folds the pushed-event logs of these entities into their states (compare and set, read again
 * when another writer came first): each log as read is replaced by its events at or after
 * `recent` (microseconds), in the same atomic step; events appended meanwhile stay after them.
 */
async function foldPushed(store: OnlineStore, layout: ViewLayout, keys: Value[][], recent: number): Promise<void> {
  const { reader } = compile(layout);
  let pending = keys;
  for (let round = 0; pending.length > 0; round++) {
    if (round === MAX_ROUNDS) throw new OnlineStoreError(`folding events pushed to aggregate view '${layout.view}': ${pending.length} entities changed under every one of ${MAX_ROUNDS} attempts; push again.`);
    const rows = await store.read(pending.map((key) => ({ layout, key })));
    const changes: Replacement[] = [];
    const tried: Value[][] = [];
    rows.forEach((stored, i) => {
      // a state that expired takes its log's events with it (they were inside its horizon only)
      if (!stored?.pushed) return;
      const logged = decodePushed(reader.fromJson, stored.pushed);
      const kept = logged.filter((e) => e.ts >= recent);
      if (kept.length === logged.length) return; // nothing old to fold
      const state = storedState(reader, stored, true, logged);
      const folded = { length: stored.pushed.length, kept: encodeRawEntries(kept) };
      changes.push({ row: { key: pending[i], ts: stored.ts, values: { [AGGREGATE_STATE]: encodeState(reader.shape, state) } }, expected: stored, folded });
      tried.push(pending[i]);
    });
    const written = changes.length > 0 ? await store.replace(layout, changes) : [];
    pending = tried.filter((_k, i) => !written[i]);
  }
}
