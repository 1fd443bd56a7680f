/**
 * One entity's online state of an aggregate view (plans/aggregate-online.ts): per window its merged
 * part C, and the raw rows the horizon needs; built from the sync query's rows, encoded as compact
 * ASCII JSON for the store, decoded for each read, and able to take one more raw event (a push).
 *
 * In memory: times are microseconds as numbers (exact below 2^53, until the year 2255), int64
 * inputs bigints, timestamp inputs bigint microseconds, float64 numbers, strings, booleans.
 */
import { asciiJson } from '../codec.js';
import { Timestamp, type Row, type Value } from '../../values.js';
import { ROW_KIND, SYNC_COLUMNS as C, type StatePart, type StateShape } from '../../plans/aggregate-online.js';

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
  /** per input column: C's distinct values (columns with count_distinct), else undefined */
  distinct: (AggInput[] | undefined)[];
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
    windows: shape.windows.map(() => ({
      rows: 0,
      cols: shape.inputs.map(emptyColumn),
      distinct: shape.inputs.map(() => undefined),
      first: shape.inputs.map(() => []),
      last: shape.inputs.map(() => []),
    })),
    raw: [],
  };
}

/** A warehouse value of an input column as the state holds it. */
function inputOf(v: Value | undefined): AggInput | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Timestamp) return v.micros;
  if (Array.isArray(v)) throw new Error('an aggregate input is an array');
  return v;
}

const micros = (v: Value | undefined) => Number((v as Timestamp).micros);
const cmp = (a: AggInput, b: AggInput) => (a < b ? -1 : a > b ? 1 : 0);
export const byTimeValue = (a: Ranked, b: Ranked) => a[0] - b[0] || cmp(a[1], b[1]);

/** Builds one entity's state from its rows of the sync query (dialects/aggregate-online.ts), in any order. */
export class StateBuilder {
  private state: AggregateState;

  constructor(
    private readonly shape: StateShape,
    private readonly at: number,
  ) {
    this.state = emptyState(shape, at);
  }

  add(row: Row): void {
    const kind = Number(row[C.kind]);
    const g = Number(row[C.window]);
    const i = Number(row[C.column]);
    switch (kind) {
      case ROW_KIND.STATE:
        this.shape.windows.forEach((w, g) => {
          const win = this.state.windows[g];
          if (w.rows) win.rows = Number(row[C.rows(g)] ?? 0);
          w.parts.forEach((parts, i) => {
            const col = win.cols[i];
            const part = (p: StatePart) => row[C.part(p, g, i)] as Value;
            for (const p of parts) {
              if (p === 'n') col.n = Number(part('n') ?? 0);
              else if (p === 's') col.s = part('s') as number | bigint | null;
              else if (p === 'mean' || p === 'm2') col[p] = part(p) as number | null;
              else col[p] = inputOf(part(p));
            }
          });
        });
        break;
      case ROW_KIND.RAW:
        this.state.raw.push({ ts: micros(row[C.ts]), values: this.shape.inputs.map((_c, i) => inputOf(row[C.input(i)])) });
        break;
      case ROW_KIND.DISTINCT:
        (this.state.windows[g].distinct[i] ??= []).push(inputOf(row[C.input(i)])!);
        break;
      case ROW_KIND.FIRST:
      case ROW_KIND.LAST:
        this.state.windows[g][kind === ROW_KIND.FIRST ? 'first' : 'last'][i].push([micros(row[C.ts]), inputOf(row[C.input(i)])!]);
        break;
      default:
        throw new Error(`the aggregate sync query returned a row of kind ${kind}`);
    }
  }

  /** The entity's state (the builder is spent). */
  finish(): AggregateState {
    const s = this.state;
    s.raw.sort((a, b) => a.ts - b.ts);
    for (const w of s.windows) {
      for (const xs of w.first) xs.sort(byTimeValue);
      for (const xs of w.last) xs.sort(byTimeValue);
      for (const xs of w.distinct) xs?.sort(cmp);
    }
    this.state = emptyState(this.shape, this.at);
    return s;
  }
}

/**
 * Merges one raw event into the state (a push, SPEC section 12): true when it changed the state.
 * Events before the sync time are already counted by the sync that made the state (or will be by
 * the next: they come through the offline table), and events at or after s + H reach no request the
 * state serves, so both leave it unchanged. The same row (time and values) pushed twice counts once.
 */
export function mergeEvent(state: AggregateState, horizonMicros: number, event: RawRow): boolean {
  if (event.ts < state.at || event.ts >= state.at + horizonMicros) return false;
  const same = (r: RawRow) => r.ts === event.ts && r.values.every((v, i) => v === event.values[i] || (Number.isNaN(v) && Number.isNaN(event.values[i])));
  if (state.raw.some(same)) return false;
  let at = state.raw.length;
  while (at > 0 && state.raw[at - 1].ts > event.ts) at--;
  state.raw.splice(at, 0, { ts: event.ts, values: [...event.values] });
  return true;
}

/*
 * Encoding: one JSON array, positional (the layout gives the shape):
 *   [s, [per window: [rows, [per column its parts, in shape order], [per distinct column: [values]],
 *        [per column with first > 0: flat [ts, v, ts, v, ...]], [the same for last]]],
 *    flat raw rows [ts, v0, v1, ..., ts, v0, v1, ...]]
 * int64 values are JSON numbers when exact as doubles, else decimal strings; non-finite floats are
 * the strings "NaN", "Infinity", "-Infinity"; strings are ASCII with \u escapes.
 */
type Json = null | number | string | boolean | Json[];

function put(v: AggInput | null): Json {
  if (v === null) return null;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : String(v);
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return v;
}

function getter(type: InputType): (j: Json) => AggInput | null {
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

export function encodeState(shape: StateShape, s: AggregateState): string {
  const windows = shape.windows.map((w, g) => {
    const win = s.windows[g];
    return [
      win.rows,
      w.parts.map((parts, i) => parts.map((p) => (p === 'n' ? win.cols[i].n : put(win.cols[i][p])))),
      w.distinct.map((i) => (win.distinct[i] ?? []).map(put)),
      w.first.flatMap((n, i) => (n > 0 ? [win.first[i].flatMap(([t, v]) => [t, put(v)])] : [])),
      w.last.flatMap((n, i) => (n > 0 ? [win.last[i].flatMap(([t, v]) => [t, put(v)])] : [])),
    ];
  });
  const raw: Json[] = [];
  for (const r of s.raw) raw.push(r.ts, ...r.values.map(put));
  return asciiJson(JSON.stringify([s.at, windows, raw]));
}

const getters = new WeakMap<StateShape, ((j: Json) => AggInput | null)[]>();

export function decodeState(shape: StateShape, types: readonly InputType[], text: string, from = 0): AggregateState {
  let get = getters.get(shape);
  if (!get) getters.set(shape, (get = types.map(getter)));
  const [at, windows, raw] = JSON.parse(from === 0 ? text : text.slice(from)) as [number, Json[][], Json[]];
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
    w.distinct.forEach((i, k) => (win.distinct[i] = distinct[k].map((j) => get![i](j)!)));
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
