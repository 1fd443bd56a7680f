/**
 * The `aggregations=[agg(...)]` of an aggregate view (SPEC section 9), from config() or from a
 * `feature_views:` YAML entry: one reader for both forms, so both validate alike. Each complaint
 * goes through `fail(index, detail)`, which names the file and the line of that agg() or entry.
 */
import { DURATION_HELP, parseDuration } from '../duration.js';
import { AGG_FUNCTIONS, type AggFeature, type AggFunction, type AggregateSpec } from '../plans/aggregate.js';
import { NAME_PATTERN } from './checks.js';
import { ProjectError } from '../errors.js';
import type { ViewDef } from './types.js';

/** One agg() call or YAML entry as written: the column, one function or a list, windows, n, name. */
export interface RawAggregation {
  column: unknown;
  functions: unknown;
  windows: unknown;
  n?: unknown;
  name?: unknown;
}

export const DEFAULT_TILE = '1h';
/** How long after a sync the online state computes every window exactly (SPEC section 9). */
export const DEFAULT_SYNC_HORIZON = '1d';
const MAX_N = 1000;
export const AGG_HELP = "agg('<column>' or '*', '<function>' or ['<function>', ...], windows=['1h', '7d', 'lifetime'], n=5 (first_n/last_n), name='...{window}')";

export type Fail = (index: number | undefined, detail: string) => Error;

/** The value of `agg(...)` in a config() call: positional (column, functions), keywords windows, n, name. */
export function aggCall(args: unknown[]): RawAggregation & { unknownKeys?: string[] } {
  const last = args[args.length - 1];
  const kw = typeof last === 'object' && last !== null && (last as { __keywords?: boolean }).__keywords ? (args.pop() as Record<string, unknown>) : {};
  const unknown = Object.keys(kw).filter((k) => !['__keywords', 'column', 'functions', 'function', 'windows', 'n', 'name'].includes(k));
  return {
    column: args[0] ?? kw.column,
    functions: args[1] ?? kw.functions ?? kw.function,
    windows: args[2] ?? kw.windows,
    n: kw.n,
    name: kw.name,
    ...(unknown.length > 0 ? { unknownKeys: unknown } : {}),
  };
}

export function readAggregations(list: unknown, tile: unknown, fail: Fail, syncHorizon?: unknown): AggregateSpec {
  if (!Array.isArray(list) || list.length === 0) throw fail(undefined, `an aggregate view needs aggregations=[${AGG_HELP}, ...].`);
  const tileSeconds = parseDuration(tile ?? DEFAULT_TILE);
  if (tileSeconds === undefined || tileSeconds <= 0) throw fail(undefined, `'tile' must be ${DURATION_HELP}, greater than zero, not '${String(tile)}'.`);
  const syncHorizonSeconds = parseDuration(syncHorizon ?? DEFAULT_SYNC_HORIZON);
  if (syncHorizonSeconds === undefined || syncHorizonSeconds <= 0) throw fail(undefined, `'sync_horizon' must be ${DURATION_HELP}, greater than zero, not '${String(syncHorizon)}'.`);
  const features: AggFeature[] = [];
  list.forEach((raw, i) => features.push(...readOne(raw as RawAggregation & { unknownKeys?: string[] }, (d) => fail(i, d))));
  const seen = new Map<string, number>();
  features.forEach((f) => {
    if (seen.has(f.name)) throw fail(undefined, `two aggregations make the feature '${f.name}'; give one of them another name=.`);
    seen.set(f.name, 1);
  });
  return { tileSeconds, syncHorizonSeconds, features };
}

function readOne(raw: RawAggregation & { unknownKeys?: string[] }, fail: (detail: string) => Error): AggFeature[] {
  if (typeof raw !== 'object' || raw === null) throw fail(`each aggregation is ${AGG_HELP}.`);
  if (raw.unknownKeys?.length) throw fail(`agg() has unknown argument '${raw.unknownKeys[0]}'. Write ${AGG_HELP}.`);
  const column = raw.column;
  if (typeof column !== 'string' || (column !== '*' && !NAME_PATTERN.test(column))) {
    throw fail(`the aggregation's column must be a column name of the SELECT or '*', not ${JSON.stringify(column)}.`);
  }
  const fns = typeof raw.functions === 'string' ? [raw.functions] : raw.functions;
  if (!Array.isArray(fns) || fns.length === 0 || !fns.every((f) => typeof f === 'string')) throw fail(`agg('${column}', ...) needs a function or a list of functions: ${AGG_FUNCTIONS.join(', ')}.`);
  const windows = typeof raw.windows === 'string' || typeof raw.windows === 'number' ? [raw.windows] : raw.windows;
  if (!Array.isArray(windows) || windows.length === 0) throw fail(`agg('${column}', ...) needs windows=['1h', '7d', ...] (durations, or 'lifetime').`);
  const parsed = windows.map((w) => {
    if (w === 'lifetime') return { window: 'lifetime', seconds: undefined };
    const s = parseDuration(w);
    if (s === undefined || s <= 0) throw fail(`window '${String(w)}' must be 'lifetime' or ${DURATION_HELP}, greater than zero.`);
    return { window: typeof w === 'number' ? `${w}s` : String(w).trim(), seconds: s };
  });
  const dup = parsed.find((p, i) => parsed.findIndex((q) => q.seconds === p.seconds) !== i);
  if (dup) throw fail(`window '${dup.window}' is listed twice.`);
  const name = raw.name;
  if (name !== undefined && typeof name !== 'string') throw fail("name= must be a string such as 'spend_{window}'.");
  if (name !== undefined && parsed.length > 1 && !name.includes('{window}')) throw fail(`name='${name}' names ${parsed.length} windows' features: put {window} in it, such as '${name}_{window}'.`);
  if (name !== undefined && fns.length > 1) throw fail(`name='${name}' cannot name ${fns.length} functions' features; write one agg() per function.`);
  const out: AggFeature[] = [];
  for (const fn of fns as string[]) {
    if (!(AGG_FUNCTIONS as readonly string[]).includes(fn)) throw fail(`unknown aggregation function '${fn}'. Functions: ${AGG_FUNCTIONS.join(', ')}.`);
    const f = fn as AggFunction;
    if (column === '*' && f !== 'count') throw fail(`'*' counts rows: only count takes it, not ${f}. Name a column.`);
    const takesN = f === 'first_n' || f === 'last_n';
    if (takesN && (typeof raw.n !== 'number' || !Number.isInteger(raw.n) || raw.n < 1 || raw.n > MAX_N)) throw fail(`${f} needs n=<whole number from 1 to ${MAX_N}>, not ${JSON.stringify(raw.n)}.`);
    if (!takesN && raw.n !== undefined) throw fail(`n= is for first_n and last_n, not ${f}.`);
    for (const w of parsed) {
      const featureName = name !== undefined ? name.replace(/\{window\}/g, w.window) : column === '*' ? `count_${w.window}` : `${column}_${f}_${w.window}`;
      if (!NAME_PATTERN.test(featureName)) throw fail(`the feature name '${featureName}' is not a column name (letters, digits, underscores); give name='...'.`);
      out.push({ name: featureName, function: f, column, window: w.window, windowSeconds: w.seconds, ...(takesN ? { n: raw.n as number } : {}) });
    }
  }
  return out;
}

/** The default TTL of an aggregate view: its longest window (none with a lifetime window). */
export function defaultTtl(spec: AggregateSpec): number | undefined {
  if (spec.features.some((f) => f.windowSeconds === undefined)) return undefined;
  return Math.max(...spec.features.map((f) => f.windowSeconds!));
}

/** The YAML form's aggregations given to a view's config (once: not also in its config()). */
export function attachAggregate(view: ViewDef, spec: AggregateSpec, doc: { file: string; line?: number }): void {
  if (view.config.aggregate) {
    throw new ProjectError(doc.file, `feature view '${view.name}' declares aggregations both here and in ${view.file}'s config(); keep one.`, doc.line);
  }
  if (view.config.createdTimestamp) throw new ProjectError(view.file, "'created_timestamp' does not apply to an aggregate view: its rows are events, each counted once. Remove it.", 1);
  view.config.materialized = 'aggregate';
  view.config.aggregate = spec;
  view.config.ttlSeconds ??= defaultTtl(spec);
}
