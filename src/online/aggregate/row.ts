/**
 * An aggregate view's stored row (its entity's state) as the row served at a request time: its
 * features computed for that time and encoded as any view's features are, so everything after
 * vector.ts servedRows (Tecton JSON from text, typed vectors, on-demand inputs) reads it unchanged.
 */
import { encodeFeatures } from '../codec.js';
import type { StoredRow, ViewLayout } from '../store.js';
import type { Timestamp, Value } from '../../values.js';
import { stateShape } from '../../plans/aggregate-online.js';
import { decodePushed, mergePushed } from './pushed.js';
import { decodeState, emptyState, type AggregateState } from './state.js';
import { valuesAt, windowReader, type WindowReader } from './windows.js';

interface Compiled {
  reader: WindowReader;
  /** the layout without its aggregate: how the computed features are encoded */
  features: ViewLayout;
}

const compiled = new WeakMap<ViewLayout, Compiled>();

/** The window reader of an aggregate layout (its state's shape and input types) and its features' layout, built once per layout. */
export function compile(layout: ViewLayout): Compiled {
  let c = compiled.get(layout);
  if (!c) {
    const a = layout.aggregate!;
    c = { reader: windowReader(stateShape(a.features), a.inputs.map((x) => x.type), a.features, a.horizonSeconds), features: { ...layout, aggregate: undefined } };
    compiled.set(layout, c);
  }
  return c;
}

class ComputedRow implements StoredRow {
  readonly at = 0;
  readonly text: string;

  constructor(
    features: ViewLayout,
    readonly ts: Timestamp,
    readonly values: Record<string, Value>,
  ) {
    this.text = encodeFeatures(features, values);
  }
}

/**
 * The features of `row` (an aggregate view's stored state, synced at row.ts = s) at request time
 * `now` (microseconds), which the caller has checked lies in [s, s + horizon]. No row: an entity
 * with no row the windows of the view's sync at `syncedAt` hold (sync stores a state only for
 * entities with one), whose windows are empty, as `fsql train` computes them.
 */
export function aggregateRowAt(layout: ViewLayout, row: StoredRow | undefined, now: bigint, syncedAt?: Timestamp): StoredRow {
  if (!row) return emptyRowAt(layout, syncedAt!, now);
  const { reader, features } = compile(layout);
  return new ComputedRow(features, row.ts, valuesAt(reader, storedState(reader, row), Number(now)));
}

/**
 * The state a stored row holds, with the events pushed to its entity merged in. `full`: with C's
 * distinct values, which merging events needs (is a value new?) and serving alone does not.
 */
export function storedState(reader: WindowReader, row: StoredRow, full = false, pushed = row.pushed === undefined ? undefined : decodePushed(reader.fromJson, row.pushed)): AggregateState {
  // the state follows the 8-character layout fingerprint
  const state = decodeState(reader.shape, reader.types, row.text, row.at + 8, full || pushed !== undefined);
  return pushed === undefined ? state : mergePushed(state, reader.horizonMicros, pushed);
}

function emptyRowAt(layout: ViewLayout, syncedAt: Timestamp, now: bigint): StoredRow {
  const { reader, features } = compile(layout);
  return new ComputedRow(features, syncedAt, valuesAt(reader, emptyState(reader.shape, Number(syncedAt.micros)), Number(now)));
}
