/**
 * An aggregate view's pushed-event log (SPEC section 12): the raw events pushed to one entity,
 * appended by OnlineStore.appendPushed without reading anything, returned with the entity's state
 * (StoredRow.pushed), merged into that state at each read (state.ts mergeEvent: only events in
 * [s, s + H), the same row twice counts once) and folded into it when long (push.ts).
 *
 * Encoding: per event `,ts,v0,v1,...` with the values as the state's raw rows hold them (ASCII, so
 * no newline; written by state.ts encodeRawEntries), so a log after its first comma is the inside
 * of a JSON array, one event per 1 + inputs values.
 */
import { getter, mergeEvent, type AggregateState, type InputType, type RawRow } from './state.js';

const getters = new WeakMap<readonly InputType[], ((j: unknown) => unknown)[]>();

export function decodePushed(types: readonly InputType[], log: string): RawRow[] {
  if (log === '') return [];
  let get = getters.get(types);
  if (!get) getters.set(types, (get = types.map(getter) as ((j: unknown) => unknown)[]));
  const flat = JSON.parse(`[${log.slice(1)}]`) as unknown[];
  const stride = 1 + types.length;
  if (log[0] !== ',' || flat.length % stride !== 0) throw new Error("an aggregate view's pushed-event log is not in the online store's format");
  const events: RawRow[] = [];
  for (let x = 0; x < flat.length; x += stride) {
    const values = new Array<RawRow['values'][number]>(types.length);
    for (let i = 0; i < values.length; i++) values[i] = get[i](flat[x + 1 + i]) as RawRow['values'][number];
    events.push({ ts: flat[x] as number, values });
  }
  return events;
}

/** `state` (decoded with its distinct values, decodeState `full`) with the log's events merged in. */
export function mergePushed(state: AggregateState, horizonMicros: number, types: readonly InputType[], log: string): AggregateState {
  for (const e of decodePushed(types, log)) mergeEvent(state, horizonMicros, e);
  return state;
}
