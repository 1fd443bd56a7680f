/**
 * One entity's online state of an aggregate view (plans/aggregate-online.ts): per window its merged
 * part C, and the raw rows the horizon needs; built from the sync query's rows, encoded as compact
 * ASCII JSON for the store, decoded for each read, and able to take one more raw event (a push).
 *
 * In memory: times are microseconds as numbers (exact below 2^53, until the year 2255), int64
 * inputs bigints, timestamp inputs bigint microseconds, float64 numbers, strings, booleans.
 */
import { AsciiWriter } from '../ascii-writer.js';
import { asciiJson, CLOSE, COMMA, NULL, OPEN } from '../codec.js';
import { isNull, valueAt, type BatchColumn, type ColumnBatch } from '../../column-batch.js';
import { Timestamp, type Value } from '../../values.js';
import { ROW_KIND, SYNC_COLUMNS as C, type StatePart, type StateShape, type WindowShape } from '../../plans/aggregate-online.js';

export type InputType = 'int64' | 'float64' | 'string' | 'boolean' | 'timestamp';
export type AggInput = number | bigint | string | boolean;
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
  distinct: (AggInput[] | undefined)[];
  /** per input column with count_distinct: how many distinct values C holds */
  distinctCount: number[];
  /** per input column with count_distinct: those of C's distinct values some raw row also holds (what serving dedupes against) */
  distinctSeen: (AggInput[] | undefined)[];
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
      distinctSeen: shape.inputs.map(() => undefined),
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
        if (list !== null && !Array.isArray(list)) throw new Error(`the aggregate sync query's ${C.distinct(g, i)} is not a list`);
        win.distinct[i] = list === null ? [] : list.map((v) => inputOf(v)!);
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
      // strings in the default order (UTF-16 code units, as cmp compares them) skip a comparator call per comparison
      for (const xs of w.distinct) if (xs) typeof xs[0] === 'string' ? xs.sort() : xs.sort(cmp);
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
  if (state.windows.some((w) => w.distinctSeen.some((seen, i) => seen && !w.distinct[i]))) throw new Error('mergeEvent needs the distinct values: decode the state with full = true');
  if (event.ts < state.at || event.ts >= state.at + horizonMicros) return 'outside';
  const same = (r: RawRow) => r.ts === event.ts && r.values.every((v, i) => v === event.values[i] || (Number.isNaN(v) && Number.isNaN(event.values[i])));
  if (state.raw.some(same)) return 'duplicate';
  let at = state.raw.length;
  while (at > 0 && state.raw[at - 1].ts > event.ts) at--;
  state.raw.splice(at, 0, { ts: event.ts, values: [...event.values] });
  return 'merged';
}

/*
 * Encoding: two JSON arrays, positional (the layout gives the shape), a newline between them:
 *   [s, [per window: [rows, [per column its parts, in shape order],
 *                     [per distinct column: [C's distinct count, [those of its values a raw row holds]]],
 *                     [per column with first > 0: flat [ts, v, ts, v, ...]], [the same for last]]],
 *    flat raw rows [ts, v0, v1, ..., ts, v0, v1, ...]]
 *   [per window: [per distinct column: [C's distinct values]]]
 * Serving parses the first only: a month's distinct merchants of a busy user are most of the state's
 * bytes, and a request needs only their count and which raw rows' values are among them. A push
 * (mergeEvent) needs the whole set, to know whether its value is new.
 * int64 values are JSON numbers when exact as doubles, else decimal strings; non-finite floats are
 * the strings "NaN", "Infinity", "-Infinity"; strings are ASCII with \u escapes (so no newline).
 */
type Json = null | number | string | boolean | Json[];

/** How a value of an input column of this type is read back from its JSON (the state's raw rows, the pushed-event log). */
export function getter(type: InputType): (j: Json) => AggInput | null {
  switch (type) {
    case 'int64':
    case 'timestamp':
      return (j) => (j === null ? null : BigInt(j as number | string));
    case 'float64':
      return (j) => (j === null ? null : typeof j === 'string' ? Number(j) : (j as number));
    default:
      return (j) => j as AggInput | null;
  }
}

/** Where encodeState writes (a sync encodes every entity's state: one buffer, no string per value). */
const out = new AsciiWriter();
const QUOTE = 34;
const BACKSLASH = 92;
const NEWLINE = 10;
const TRUE = Buffer.from('true', 'latin1');
const FALSE = Buffer.from('false', 'latin1');

/** A string's JSON text: printable ASCII byte by byte, anything else as JSON.stringify escapes it (non-ASCII as \u escapes). */
function writeString(w: AsciiWriter, v: string): void {
  const start = w.at;
  w.room(v.length + 2);
  const buf = w.buf;
  let at = start;
  buf[at++] = QUOTE;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === QUOTE || c === BACKSLASH) {
      w.at = start;
      w.text(asciiJson(JSON.stringify(v)));
      return;
    }
    buf[at++] = c;
  }
  buf[at++] = QUOTE;
  w.at = at;
}

function writeValue(w: AsciiWriter, v: AggInput | null): void {
  if (v === null) return w.all(NULL);
  switch (typeof v) {
    case 'number':
      if (Number.isSafeInteger(v)) w.int(v);
      else if (Number.isFinite(v)) w.text(String(v));
      else {
        w.byte(QUOTE);
        w.text(String(v));
        w.byte(QUOTE);
      }
      return;
    case 'bigint':
      if (Number.isSafeInteger(Number(v))) w.int(Number(v));
      else {
        w.byte(QUOTE);
        w.text(String(v));
        w.byte(QUOTE);
      }
      return;
    case 'string':
      return writeString(w, v);
    default:
      w.all(v ? TRUE : FALSE);
  }
}

function writeValues(w: AsciiWriter, xs: readonly AggInput[]): void {
  w.byte(OPEN);
  for (let k = 0; k < xs.length; k++) {
    if (k > 0) w.byte(COMMA);
    writeValue(w, xs[k]);
  }
  w.byte(CLOSE);
}

/** Ranked rows flat: [ts, v, ts, v, ...]. */
function writeRanked(w: AsciiWriter, xs: readonly Ranked[]): void {
  w.byte(OPEN);
  for (let k = 0; k < xs.length; k++) {
    if (k > 0) w.byte(COMMA);
    w.int(xs[k][0]);
    w.byte(COMMA);
    writeValue(w, xs[k][1]);
  }
  w.byte(CLOSE);
}

/** Below this many comparisons C's values are searched in place for the raw rows' values; above, a Set is built. */
const SCAN_LIMIT = 4096;

/** Those of C's distinct values `all` that a raw row holds in column i, in the raw rows' order. */
function seenInRaw(all: readonly AggInput[], raw: readonly RawRow[], i: number): AggInput[] {
  const seen: AggInput[] = [];
  if (raw.length === 0 || all.length === 0) return seen;
  const set = raw.length * all.length > SCAN_LIMIT ? new Set(all) : undefined;
  for (const r of raw) {
    const v = r.values[i];
    if (v !== null && (set ? set.has(v) : all.includes(v)) && !seen.includes(v)) seen.push(v);
  }
  return seen;
}

function writeWindow(w: AsciiWriter, shape: WindowShape, win: WindowState, raw: readonly RawRow[]): void {
  w.byte(OPEN);
  w.int(win.rows);
  w.byte(COMMA);
  w.byte(OPEN);
  for (let i = 0; i < shape.parts.length; i++) {
    if (i > 0) w.byte(COMMA);
    w.byte(OPEN);
    const parts = shape.parts[i];
    const col = win.cols[i];
    for (let k = 0; k < parts.length; k++) {
      if (k > 0) w.byte(COMMA);
      if (parts[k] === 'n') w.int(col.n);
      else writeValue(w, col[parts[k]]);
    }
    w.byte(CLOSE);
  }
  w.byte(CLOSE);
  w.byte(COMMA);
  w.byte(OPEN);
  for (let k = 0; k < shape.distinct.length; k++) {
    const i = shape.distinct[k];
    const all = win.distinct[i];
    if (!all) throw new Error('encodeState needs the distinct values: decode the state with full = true');
    if (k > 0) w.byte(COMMA);
    w.byte(OPEN);
    w.int(all.length);
    w.byte(COMMA);
    // C's values are distinct (the query's DISTINCT, or decoded from it)
    writeValues(w, seenInRaw(all, raw, i));
    w.byte(CLOSE);
  }
  w.byte(CLOSE);
  w.byte(COMMA);
  writeEnds(w, shape.first, win.first);
  w.byte(COMMA);
  writeEnds(w, shape.last, win.last);
  w.byte(CLOSE);
}

/** C's earliest (or latest) rows of the columns that keep some (`counts[i]` > 0). */
function writeEnds(w: AsciiWriter, counts: readonly number[], lists: readonly Ranked[][]): void {
  w.byte(OPEN);
  let any = false;
  for (let i = 0; i < counts.length; i++) {
    if (counts[i] === 0) continue;
    if (any) w.byte(COMMA);
    any = true;
    writeRanked(w, lists[i]);
  }
  w.byte(CLOSE);
}

/** Raw rows flat, `ts, v0, v1, ...` each, every value after a comma (`first`: the first row's time too). */
function writeRaw(w: AsciiWriter, rows: readonly RawRow[], first: boolean): void {
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k];
    if (k > 0 || first) w.byte(COMMA);
    w.int(r.ts);
    for (const v of r.values) {
      w.byte(COMMA);
      writeValue(w, v);
    }
  }
}

/** Raw rows as entries of a pushed-event log (pushed.ts): `,ts,v0,v1,...` each, as the state's raw rows write them. */
export function encodeRawEntries(rows: readonly RawRow[]): string {
  const w = out;
  w.at = 0;
  writeRaw(w, rows, true);
  return w.toString();
}

export function encodeState(shape: StateShape, s: AggregateState): string {
  const w = out;
  w.at = 0;
  w.byte(OPEN);
  w.int(s.at);
  w.byte(COMMA);
  w.byte(OPEN);
  for (let g = 0; g < shape.windows.length; g++) {
    if (g > 0) w.byte(COMMA);
    writeWindow(w, shape.windows[g], s.windows[g], s.raw);
  }
  w.byte(CLOSE);
  w.byte(COMMA);
  w.byte(OPEN);
  writeRaw(w, s.raw, false);
  w.byte(CLOSE);
  w.byte(CLOSE);
  w.byte(NEWLINE);
  w.byte(OPEN);
  for (let g = 0; g < shape.windows.length; g++) {
    if (g > 0) w.byte(COMMA);
    w.byte(OPEN);
    const distinct = shape.windows[g].distinct;
    for (let k = 0; k < distinct.length; k++) {
      if (k > 0) w.byte(COMMA);
      writeValues(w, s.windows[g].distinct[distinct[k]]!);
    }
    w.byte(CLOSE);
  }
  w.byte(CLOSE);
  return w.toString();
}

const getters = new WeakMap<StateShape, ((j: Json) => AggInput | null)[]>();

/** The state encoded in `text` from `from`; `full`: with C's distinct values (a push needs them, serving does not). */
export function decodeState(shape: StateShape, types: readonly InputType[], text: string, from = 0, full = false): AggregateState {
  let get = getters.get(shape);
  if (!get) getters.set(shape, (get = types.map(getter)));
  const nl = text.indexOf('\n', from);
  if (nl < 0) throw new Error('an aggregate state is not in the online store\'s format (no newline)');
  const [at, windows, raw] = JSON.parse(text.slice(from, nl)) as [number, Json[][], Json[]];
  const sets = full ? (JSON.parse(text.slice(nl + 1)) as Json[][][]) : undefined;
  const s = emptyState(shape, at);
  shape.windows.forEach((w, g) => {
    const [rows, parts, distinct, first, last] = windows[g] as [number, Json[][], Json[][], Json[][], Json[][]];
    const win = s.windows[g];
    win.rows = rows;
    w.parts.forEach((ps, i) =>
      ps.forEach((p, k) => {
        const j = parts[i][k];
        if (p === 'n') win.cols[i].n = j as number;
        else if (p === 'mean' || p === 'm2') win.cols[i][p] = j === null ? null : Number(j);
        else if (p === 's') win.cols[i].s = types[i] === 'int64' ? get![i](j) as bigint | null : j === null ? null : Number(j);
        else win.cols[i][p] = get![i](j);
      }),
    );
    w.distinct.forEach((i, k) => {
      const [count, seen] = distinct[k] as [number, Json[]];
      win.distinctCount[i] = count;
      win.distinctSeen[i] = seen.map((j) => get![i](j)!);
      win.distinct[i] = sets ? sets[g][k].map((j) => get![i](j)!) : undefined;
    });
    const ranked = (lists: Json[][], counts: number[], into: Ranked[][]) => {
      let k = 0;
      counts.forEach((n, i) => {
        if (n === 0) return;
        const flat = lists[k++];
        for (let x = 0; x < flat.length; x += 2) into[i].push([flat[x] as number, get![i](flat[x + 1])!]);
      });
    };
    ranked(first, w.first, win.first);
    ranked(last, w.last, win.last);
  });
  const stride = 1 + shape.inputs.length;
  for (let x = 0; x < raw.length; x += stride) {
    const values = new Array<AggInput | null>(shape.inputs.length);
    for (let i = 0; i < values.length; i++) values[i] = get[i](raw[x + 1 + i]);
    s.raw.push({ ts: raw[x] as number, values });
  }
  return s;
}
