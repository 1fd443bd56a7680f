/**
 * An aggregate view's pushed-event log (SPEC section 12): the raw events pushed to one entity,
 * appended by OnlineStore.appendPushed without reading anything, returned with the entity's state
 * (StoredRow.pushed), merged into that state at each read (state.ts mergeEvent: only events in
 * [s, s + H), the same row twice counts once) and folded into it when long (push.ts).
 *
 * Encoding: per event `,ts,v0,v1,...` (ASCII JSON, so no newline), so a log after its first comma
 * is the inside of a JSON array, one event per 1 + inputs values, and appending is concatenating.
 * Values as json-values.ts writes them.
 */
import { AsciiWriter } from '../ascii-writer.js';
import { COMMA } from '../ascii-writer.js';
import { writeJsonValue, type ValueFromJson } from './json-values.js';
import { mergeEvent, type AggInput, type AggregateState, type RawRow } from './state.js';

/** Where encodeRawEntries writes. */
const out = new AsciiWriter();

/** Events as entries of a log: `,ts,v0,v1,...` each. */
export function encodeRawEntries(rows: readonly RawRow[]): string {
  const w = out;
  w.at = 0;
  for (const r of rows) {
    w.byte(COMMA);
    w.int(r.ts);
    for (const v of r.values) {
      w.byte(COMMA);
      writeJsonValue(w, v);
    }
  }
  return w.toString();
}

/** The log's events; `values`: each input column's reader (WindowReader.fromJson). */
export function decodePushed(values: readonly ValueFromJson[], log: string): RawRow[] {
  if (log === '') return [];
  const flat = JSON.parse(`[${log.slice(1)}]`) as unknown[];
  const stride = 1 + values.length;
  if (log[0] !== ',' || flat.length % stride !== 0) throw new Error("an aggregate view's pushed-event log is not in the online store's format");
  const events: RawRow[] = [];
  for (let x = 0; x < flat.length; x += stride) {
    const row = new Array<AggInput | null>(values.length);
    for (let i = 0; i < row.length; i++) row[i] = values[i](flat[x + 1 + i]);
    events.push({ ts: flat[x] as number, values: row });
  }
  return events;
}

/** `state` (decoded with its distinct values, decodeState `full`) with a log's events merged in. */
export function mergePushed(state: AggregateState, horizonMicros: number, events: readonly RawRow[]): AggregateState {
  for (const e of events) mergeEvent(state, horizonMicros, e);
  return state;
}
