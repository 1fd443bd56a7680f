/**
 * One entity's online state of an aggregate view (plans/aggregate-online.ts): per window its merged
 * part C, and the raw rows the horizon needs; built from the sync query's rows, encoded for the
 * store (printable ASCII: base64 slots and the strings, state-bytes.ts), decoded for each read, and
 * able to take one more raw event (a push).
 *
 * In memory: times are microseconds as numbers (exact below 2^53, until the year 2255), int64
 * inputs bigints, timestamp inputs bigint microseconds, float64 numbers, strings, booleans.
 */
import { isNull, valueAt, type BatchColumn, type ColumnBatch } from '../../column-batch.js';
import { Timestamp, type ScalarType, type Value } from '../../values.js';
import { partType, ROW_KIND, SYNC_COLUMNS as C, type StatePart, type StateShape, type WindowShape } from '../../plans/aggregate-online.js';
import { AsciiWriter } from '../ascii-writer.js';
import { CLOSE, COMMA, OPEN } from '../ascii-writer.js';
import { fromJson, writeJsonValue } from './json-values.js';
import { DistinctText, distinctStrings } from './distinct-text.js';
import { StateReader, StateWriter } from './state-bytes.js';

export type AggInput = number | bigint | string | boolean;
/** C's distinct values of a column, ascending: a list, or (a string column's, from a sync) their stored JSON text */
export type DistinctValues = AggInput[] | DistinctText;
/** a row ranked by (time, value): C's earliest or latest rows of a column */
export type Ranked = [ts: number, value: AggInput];

export interface MergedColumn {
  n: number;
  s: number | bigint | null;
  mean: number | null;
  m2: number | null;
  min: AggInput | null;
  max: AggInput | null;
}

export interface WindowState {
  /** rows of C (count('*')) */
  rows: number;
  /** per input column */
  cols: MergedColumn[];
  /**
   * per input column with count_distinct: C's distinct values; undefined for other columns, and for
   * all when the state was decoded for serving only (decodeState `full` false)
   */
  distinct: (DistinctValues | undefined)[];
  /** per input column with count_distinct: how many distinct values C holds */
  distinctCount: number[];
  /**
   * per input column with count_distinct, when decoded for serving only: per raw row (`raw`'s
   * index), 1 when C's distinct values hold its value (what serving dedupes against), else 0
   */
  heldByC: (Uint8Array | undefined)[];
  /** per input column: C's earliest rows, ordered by (time, value) */
  first: Ranked[][];
  /** per input column: C's latest rows, ordered by (time, value), oldest first */
  last: Ranked[][];
}

export interface RawRow {
  ts: number;
  /** per input column */
  values: (AggInput | null)[];
}

export interface AggregateState {
  /** the sync time s, in microseconds */
  at: number;
  windows: WindowState[];
  /** ordered by time */
  raw: RawRow[];
}

const emptyColumn = (): MergedColumn => ({ n: 0, s: null, mean: null, m2: null, min: null, max: null });

export function emptyState(shape: StateShape, at: number): AggregateState {
  return {
    at,
    windows: shape.windows.map((w) => ({
      rows: 0,
      cols: shape.inputs.map(emptyColumn),
      distinct: shape.inputs.map((_c, i) => (w.distinct.includes(i) ? [] : undefined)),
      distinctCount: shape.inputs.map(() => 0),
      heldByC: shape.inputs.map(() => undefined),
      first: shape.inputs.map(() => []),
      last: shape.inputs.map(() => []),
    })),
    raw: [],
  };
}

/** A warehouse value of an input column as the state holds it. */
function inputOf(v: Value): AggInput | null {
  if (v === null) return null;
  if (v instanceof Timestamp) return v.micros;
  if (Array.isArray(v)) throw new Error('an aggregate input is an array');
  return v;
}

/** A timestamp cell's microseconds as a number. */
function microsAt(c: BatchColumn, i: number): number {
  // the high word signed, the low unsigned: exact below 2^53, no BigInt
  if (c.kind === 'timestamp') return (c.words[2 * i + 1] | 0) * 4294967296 + c.words[2 * i];
  return Number((valueAt(c, i) as Timestamp).micros);
}

/** An input cell as the state holds it (a timestamp's microseconds without a Timestamp). */
function inputAt(c: BatchColumn, i: number): AggInput | null {
  if (c.kind === 'timestamp') return isNull(c, i) ? null : c.big[i];
  return inputOf(valueAt(c, i));
}

const cmp = (a: AggInput, b: AggInput) => (a < b ? -1 : a > b ? 1 : 0);

/** Whether distinct values are in strictly ascending order (one pass: sorting a sorted array still compares through a comparator). */
function ascending(xs: readonly AggInput[]): boolean {
  for (let k = 1; k < xs.length; k++) if (!(xs[k - 1] < xs[k])) return false;
  return true;
}
export const byTimeValue = (a: Ranked, b: Ranked) => a[0] - b[0] || cmp(a[1], b[1]);

/** The sync query's columns as indexes into a batch (resolved once: every batch has the same names). */
interface Columns {
  kind: number;
  window: number;
  column: number;
  ts: number;
  inputs: number[];
  /** per window, its rows column (-1: none) */
  rows: number[];
  /** per window, per input column, per part of its shape: the column */
  parts: number[][][];
  /** per window, per input column: the column of C's distinct values (-1: none) */
  distinct: number[][];
}

/**
 * Builds one entity's state from its rows of the sync query (dialects/aggregate-online.ts), in any
 * order, read straight from the warehouse's batches (no row objects: most rows are raw rows, and
 * only their time and inputs are read).
 */
export class StateBuilder {
  private state: AggregateState;
  private columns?: Columns;

  constructor(
    private readonly shape: StateShape,
    private readonly at: number,
  ) {
    this.state = emptyState(shape, at);
  }

  private resolve(names: string[]): Columns {
    const index = (name: string) => {
      const i = names.indexOf(name);
      if (i < 0) throw new Error(`the aggregate sync query returned no column ${name}`);
      return i;
    };
    /** a window's merged parts: absent where its C is empty (no wider than the horizon) */
    const optional = (name: string) => names.indexOf(name);
    return {
      kind: index(C.kind),
      window: index(C.window),
      column: index(C.column),
      ts: index(C.ts),
      inputs: this.shape.inputs.map((_c, i) => index(C.input(i))),
      rows: this.shape.windows.map((w, g) => (w.rows ? optional(C.rows(g)) : -1)),
      parts: this.shape.windows.map((w, g) => w.parts.map((parts, i) => parts.map((p) => optional(C.part(p, g, i))))),
      distinct: this.shape.windows.map((w, g) => this.shape.inputs.map((_c, i) => (w.distinct.includes(i) ? optional(C.distinct(g, i)) : -1))),
    };
  }

  /** Row `r` of `batch` (a row of this entity). */
  add(batch: ColumnBatch, r: number): void {
    const cols = (this.columns ??= this.resolve(batch.names));
    const columns = batch.columns;
    const kind = Number(valueAt(columns[cols.kind], r));
    switch (kind) {
      case ROW_KIND.STATE:
        this.addState(columns, cols, r);
        break;
      case ROW_KIND.RAW: {
        const values = new Array<AggInput | null>(cols.inputs.length);
        for (let i = 0; i < values.length; i++) values[i] = inputAt(columns[cols.inputs[i]], r);
        this.state.raw.push({ ts: microsAt(columns[cols.ts], r), values });
        break;
      }
      case ROW_KIND.FIRST:
      case ROW_KIND.LAST: {
        const i = Number(valueAt(columns[cols.column], r));
        const win = this.state.windows[Number(valueAt(columns[cols.window], r))];
        win[kind === ROW_KIND.FIRST ? 'first' : 'last'][i].push([microsAt(columns[cols.ts], r), inputAt(columns[cols.inputs[i]], r)!]);
        break;
      }
      default:
        throw new Error(`the aggregate sync query returned a row of kind ${kind}`);
    }
  }

  private addState(columns: BatchColumn[], cols: Columns, r: number): void {
    const at = (c: number) => valueAt(columns[c], r);
    this.shape.windows.forEach((w, g) => {
      const win = this.state.windows[g];
      if (cols.rows[g] >= 0) win.rows = Number(at(cols.rows[g]) ?? 0);
      w.parts.forEach((parts, i) => {
        const col = win.cols[i];
        parts.forEach((p: StatePart, k) => {
          if (cols.parts[g][i][k] < 0) return;
          const v = at(cols.parts[g][i][k]);
          if (p === 'n') col.n = Number(v ?? 0);
          else if (p === 's') col.s = v as number | bigint | null;
          else if (p === 'mean' || p === 'm2') col[p] = v as number | null;
          else col[p] = inputOf(v);
        });
      });
      cols.distinct[g].forEach((c, i) => {
        if (c < 0) return;
        const list = at(c);
        // a string column's values come as JSON text (dialects/aggregate-online.ts), other columns' as a list
        if (typeof list === 'string') win.distinct[i] = DistinctText.of(list) ?? distinctStrings(list);
        else if (list !== null && !Array.isArray(list)) throw new Error(`the aggregate sync query's ${C.distinct(g, i)} is not a list`);
        else win.distinct[i] = list === null ? [] : list.map((v) => inputOf(v)!);
      });
    });
  }

  /** The entity's state (the builder starts the next entity's). */
  finish(): AggregateState {
    const s = this.state;
    s.raw.sort((a, b) => a.ts - b.ts);
    for (const w of s.windows) {
      for (const xs of w.first) xs.sort(byTimeValue);
      for (const xs of w.last) xs.sort(byTimeValue);
      // the warehouse orders each list: sorted here only where its order is not JavaScript's
      for (const xs of w.distinct) if (Array.isArray(xs) && !ascending(xs)) xs.sort(cmp);
    }
    this.state = emptyState(this.shape, this.at);
    return s;
  }
}

/** What mergeEvent did with an event: took it, found it already there, or left it (outside [s, s + H)). */
type MergeOutcome = 'merged' | 'duplicate' | 'outside';

/**
 * Merges one raw event into the state (a push, SPEC section 12); only 'merged' changes it.
 * Events before the sync time are already counted by the sync that made the state (or will be by
 * the next: they come through the offline table), and events at or after s + H reach no request the
 * state serves, so both are left outside. The same row (time and values) pushed twice counts once.
 */

export function mergeEvent(state: AggregateState, horizonMicros: number, event: RawRow): MergeOutcome {
  if (state.windows.some((w) => w.heldByC.some((held, i) => held && !w.distinct[i]))) throw new Error('mergeEvent needs the distinct values: decode the state with full = true');
  if (event.ts < state.at || event.ts >= state.at + horizonMicros) return 'outside';
  const same = (r: RawRow) => r.ts === event.ts && r.values.every((v, i) => v === event.values[i] || (Number.isNaN(v) && Number.isNaN(event.values[i])));
  if (state.raw.some(same)) return 'duplicate';
  let at = state.raw.length;
  while (at > 0 && state.raw[at - 1].ts > event.ts) at--;
  state.raw.splice(at, 0, { ts: event.ts, values: [...event.values] });
  return 'merged';
}

/*
 * Encoding: positional (the layout gives the shape), two parts with a newline between them:
 *   state-bytes.ts slots and strings:
 *     s, the number of raw rows R,
 *     per window: rows, per column its parts (in shape order),
 *                 per distinct column: C's distinct count, then R bits in 32-bit words (raw row k's value is among C's),
 *                 per column with first > 0: k, then k times (ts, v); the same for last,
 *     R raw rows (ts, v0, v1, ...)
 *   JSON (json-values.ts): [per window: [per distinct column: [C's distinct values]]]
 * Serving decodes the first only: a month's distinct merchants of a busy user are most of the
 * state's bytes, and a request needs only their count and which raw rows' values are among them
 * (a bit per row: no set of C's values to build, no string to compare).
 * A push (mergeEvent) needs the whole set, to know whether its value is new; it is JSON, about half
 * the bytes of slots for short strings, as only reads with pushed events and folds parse it.
 */

/** Where encodeState writes (a sync encodes every entity's state: reused buffers, no string per value). */
const out = new StateWriter();
const sets = new AsciiWriter();

/** Below this many comparisons C's values are searched in place for the raw rows' values; above, a Set is built. */
const SCAN_LIMIT = 4096;

/** Whether C's distinct values `all` hold a value, for `lookups` lookups. */
export function holds(all: DistinctValues, lookups: number): (v: AggInput) => boolean {
  if (all instanceof DistinctText) return (v) => all.has(v);
  if (lookups * all.length <= SCAN_LIMIT) return (v) => all.includes(v);
  const set = new Set(all);
  return (v) => set.has(v);
}

/** A bit per raw row, 32 to a slot: whether C's distinct values `all` hold its value in column i. */
function writeHeld(w: StateWriter, all: DistinctValues, raw: readonly RawRow[], i: number): void {
  const held = holds(all, raw.length);
  for (let k = 0; k < raw.length; k += 32) {
    let word = 0;
    for (let b = 0; b < 32 && k + b < raw.length; b++) {
      const v = raw[k + b].values[i];
      if (v !== null && held(v)) word |= 1 << b;
    }
    w.num(word >>> 0);
  }
}

function skipHeld(r: StateReader, rows: number): void {
  for (let k = 0; k < rows; k += 32) r.num();
}

function readHeld(r: StateReader, rows: number): Uint8Array {
  const held = new Uint8Array(rows);
  for (let k = 0; k < rows; k += 32) {
    const word = r.num();
    for (let b = 0; b < 32 && k + b < rows; b++) held[k + b] = (word >>> b) & 1;
  }
  return held;
}

/** C's earliest (or latest) rows of the columns that keep some (`counts[i]` > 0). */
function writeEnds(w: StateWriter, counts: readonly number[], lists: readonly Ranked[][]): void {
  for (let i = 0; i < counts.length; i++) {
    if (counts[i] === 0) continue;
    const xs = lists[i];
    w.num(xs.length);
    for (let k = 0; k < xs.length; k++) {
      w.num(xs[k][0]);
      w.value(xs[k][1]);
    }
  }
}

function writeWindow(w: StateWriter, shape: WindowShape, win: WindowState, raw: readonly RawRow[]): void {
  w.num(win.rows);
  for (let i = 0; i < shape.parts.length; i++) {
    const parts = shape.parts[i];
    const col = win.cols[i];
    for (let k = 0; k < parts.length; k++) {
      if (parts[k] === 'n') w.num(col.n);
      else w.value(col[parts[k]]);
    }
  }
  for (const i of shape.distinct) {
    const all = win.distinct[i];
    if (!all) throw new Error('encodeState needs the distinct values: decode the state with full = true');
    // C's values are distinct (the query's DISTINCT, or decoded from it)
    w.num(all.length);
    writeHeld(w, all, raw, i);
  }
  writeEnds(w, shape.first, win.first);
  writeEnds(w, shape.last, win.last);
}

export function encodeState(shape: StateShape, s: AggregateState): string {
  const w = out;
  w.reset();
  w.num(s.at);
  w.num(s.raw.length);
  for (let g = 0; g < shape.windows.length; g++) writeWindow(w, shape.windows[g], s.windows[g], s.raw);
  for (const r of s.raw) {
    w.num(r.ts);
    for (const v of r.values) w.value(v);
  }
  sets.at = 0;
  sets.byte(OPEN);
  for (let g = 0; g < shape.windows.length; g++) {
    if (g > 0) sets.byte(COMMA);
    sets.byte(OPEN);
    const distinct = shape.windows[g].distinct;
    for (let k = 0; k < distinct.length; k++) {
      if (k > 0) sets.byte(COMMA);
      const xs = s.windows[g].distinct[distinct[k]]!;
      if (xs instanceof DistinctText) {
        sets.text(xs.text);
        continue;
      }
      sets.byte(OPEN);
      for (let x = 0; x < xs.length; x++) {
        if (x > 0) sets.byte(COMMA);
        writeJsonValue(sets, xs[x]);
      }
      sets.byte(CLOSE);
    }
    sets.byte(CLOSE);
  }
  sets.byte(CLOSE);
  return `${w.toString()}\n${sets.toString()}`;
}

function readEnds(r: StateReader, counts: readonly number[], types: readonly ScalarType[], into: Ranked[][]): void {
  for (let i = 0; i < counts.length; i++) {
    if (counts[i] === 0) continue;
    for (let k = r.num(); k > 0; k--) into[i].push([r.num(), r.value(types[i])!]);
  }
}

/** The state encoded in `text` from `from`; `full`: with C's distinct values (a push needs them, serving does not). */
export function decodeState(shape: StateShape, types: readonly ScalarType[], text: string, from = 0, full = false): AggregateState {
  const nl = text.indexOf('\n', from);
  if (nl < 0) throw new Error('an aggregate state is not in the online store\'s format (no newline)');
  const r = new StateReader(text, from, nl);
  const s = emptyState(shape, r.num());
  s.raw = new Array<RawRow>(r.num());
  shape.windows.forEach((w, g) => {
    const win = s.windows[g];
    win.rows = r.num();
    w.parts.forEach((ps, i) => {
      const col = win.cols[i];
      for (const p of ps) {
        if (p === 'n') col.n = r.num();
        else if (p === 's') col.s = r.value(partType(p, types[i])) as number | bigint | null;
        else if (p === 'mean' || p === 'm2') col[p] = r.value(partType(p, types[i])) as number | null;
        else col[p] = r.value(partType(p, types[i]));
      }
    });
    for (const i of w.distinct) {
      win.distinctCount[i] = r.num();
      // a full decode reads C's values instead (below), which a merged event keeps true
      if (full) skipHeld(r, s.raw.length);
      else {
        win.heldByC[i] = readHeld(r, s.raw.length);
        win.distinct[i] = undefined;
      }
    }
    readEnds(r, w.first, types, win.first);
    readEnds(r, w.last, types, win.last);
  });
  const inputs = shape.inputs.length;
  for (let k = 0; k < s.raw.length; k++) {
    const ts = r.num();
    const values = new Array<AggInput | null>(inputs);
    for (let i = 0; i < inputs; i++) values[i] = r.value(types[i]);
    s.raw[k] = { ts, values };
  }
  if (full) {
    const lists = JSON.parse(text.slice(nl + 1)) as unknown[][][];
    shape.windows.forEach((w, g) =>
      w.distinct.forEach((i, k) => {
        const read = fromJson(types[i]);
        s.windows[g].distinct[i] = lists[g][k].map((j) => read(j)!);
      }),
    );
  }
  return s;
}
