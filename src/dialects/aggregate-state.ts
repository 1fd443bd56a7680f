/**
 * The partial aggregate ("state") of an aggregate view's scalar functions, one home for its
 * columns: how a tile's state is built from its rows, how one raw row is a state of its own, how
 * states merge and how a feature's value comes out of the merge.
 *
 * Per input column: n = count, s = sum, (n, mean, M2) for the variances, merged by Chan's formula
 * (M2 = sum M2_i + sum n_i (mean_i - mean)^2 with the merged mean computed first, so no difference
 * of large sums), min, max (never subtracted), and first/last as (time, value): `first` is the
 * least value among the earliest rows, `last` the greatest among the latest (one rule for ties).
 */
import { inputColumns, SCALAR_PARTS, STATE_PART_ORDER, type AggFeature, type AggPart, type AggregateSpec } from '../plans/aggregate.js';
import type { StatePart } from '../plans/aggregate-online.js';
import type { Dialect } from './dialect.js';

export const ROWS = 'fsql_rows';
/** a state column: `fsql_<part>_<index of the input column>` */
export const stateColumn = (part: AggPart, i: number) => `fsql_${part}_${i}`;
/** the merged mean, first time and last time of a group (window columns of the merge's first stage) */
const groupColumn = (part: 'mean' | 'first' | 'last', i: number, window: string) => `fsql_g${part}_${i}${window}`;

/**
 * Which merged rows `p` a window takes: a boolean column (several windows merged in one pass,
 * each masking the rows of its own), or all of them; `tag` names the window's group columns.
 */
export interface WindowMask {
  column?: string;
  tag: string;
}
const ALL: WindowMask = { tag: '' };

interface ColumnState {
  column: string;
  i: number;
  parts: AggPart[];
}


export function isScalar(f: AggFeature): boolean {
  return f.column === '*' || f.function in SCALAR_PARTS;
}

/** The state parts each input column needs, for the features given (all of the view's, for tiles). */
export function columnStates(spec: AggregateSpec, features = spec.features): ColumnState[] {
  const all = inputColumns(spec);
  return all
    .map((column, i) => {
      const parts = new Set(features.flatMap((f) => (f.column === column ? (SCALAR_PARTS[f.function] ?? []) : [])));
      return { column, i, parts: STATE_PART_ORDER.filter((p) => parts.has(p)) };
    })
    .filter((c) => c.parts.length > 0);
}

/** The state columns, in table order. */
export function stateColumns(states: ColumnState[]): string[] {
  return [ROWS, ...states.flatMap((s) => s.parts.map((p) => stateColumn(p, s.i)))];
}

/**
 * The SELECT of the tile states of `from` (rows with keys, timestamp, inputs and the tile column
 * `tile`), grouped by keys and tile; `where` filters the rows.
 */
export function tileStateSelect(d: Dialect, states: ColumnState[], keys: string[], timestamp: string, tile: string, from: string, where: string): string {
  const id = (c: string) => d.quoteIdent(c);
  const group = [...keys, tile].map((c) => `r.${id(c)}`);
  const ts = `r.${id(timestamp)}`;
  const windows: string[] = [];
  const aggs: string[] = [`count(*) as ${id(ROWS)}`];
  for (const s of states) {
    const c = `r.${id(s.column)}`;
    const tsIfPresent = `case when ${c} is not null then ${ts} end`;
    for (const p of s.parts) {
      const out = id(stateColumn(p, s.i));
      switch (p) {
        case 'n':
        case 's':
        case 'mean':
        case 'm2':
        case 'min':
        case 'max':
          aggs.push(`${partAggregate(d, p, c)} as ${out}`);
          break;
        case 'fts':
        case 'lts': {
          const fn = p === 'fts' ? 'min' : 'max';
          const w = id(groupColumn(p === 'fts' ? 'first' : 'last', s.i, ''));
          windows.push(`${fn}(${tsIfPresent}) over (partition by ${group.join(', ')}) as ${w}`);
          aggs.push(`${fn}(${tsIfPresent}) as ${out}`);
          break;
        }
        case 'fv':
        case 'lv': {
          const w = `r.${id(groupColumn(p === 'fv' ? 'first' : 'last', s.i, ''))}`;
          aggs.push(`${p === 'fv' ? 'min' : 'max'}(case when ${ts} = ${w} then ${c} end) as ${out}`);
          break;
        }
      }
    }
  }
  const source = windows.length > 0 ? `(\n  select r.*, ${windows.join(', ')}\n  from ${from} as r\n  where ${where}\n) as r` : `${from} as r\n  where ${where}`;
  return `select ${[...group, ...aggs].join(', ')}\nfrom ${source}\ngroup by ${group.join(', ')}`;
}

/**
 * A merged part of the values `c` of a group of rows (a tile's, or C's in the sync query: the
 * same numerics on both sides). var_pop is computed stably by every warehouse (Welford /
 * Youngs-Cramer), so M2 = n * var_pop.
 */
export function partAggregate(d: Dialect, p: StatePart, c: string): string {
  switch (p) {
    case 'n':
      return `count(${c})`;
    case 's':
      return `sum(${c})`;
    case 'mean':
      return `avg(${d.castTo(c, 'float64')})`;
    case 'm2':
      return `var_pop(${d.castTo(c, 'float64')}) * count(${c})`;
    case 'min':
    case 'max':
      return `${p}(${c})`;
  }
}

/** One raw row `r` as a state of its own, in stateColumns order. */
export function rowState(d: Dialect, states: ColumnState[], timestamp: string): string[] {
  const id = (c: string) => d.quoteIdent(c);
  const out = [`1 as ${id(ROWS)}`];
  for (const s of states) {
    const c = `r.${id(s.column)}`;
    for (const p of s.parts) {
      const as = ` as ${id(stateColumn(p, s.i))}`;
      switch (p) {
        case 'n':
          out.push(`case when ${c} is not null then 1 else 0 end${as}`);
          break;
        case 'mean':
          out.push(`${d.castTo(c, 'float64')}${as}`);
          break;
        case 'm2':
          out.push(`case when ${c} is not null then ${d.castTo('0', 'float64')} end${as}`);
          break;
        case 'fts':
        case 'lts':
          out.push(`case when ${c} is not null then r.${id(timestamp)} end${as}`);
          break;
        default:
          out.push(`${c}${as}`);
      }
    }
  }
  return out;
}

/** The merge's first stage: window columns over each group `partition` (the merged mean, first and last time). */
export function mergeWindows(d: Dialect, states: ColumnState[], partition: string, mask: WindowMask = ALL): string[] {
  const id = (c: string) => d.quoteIdent(c);
  const w = `over (partition by ${partition})`;
  return states.flatMap((s) => {
    const col = (p: AggPart) => masked(`p.${id(stateColumn(p, s.i))}`, mask, d);
    const out: string[] = [];
    if (s.parts.includes('mean')) out.push(`${d.safeDivide(`sum(${col('n')} * ${col('mean')}) ${w}`, `sum(${col('n')}) ${w}`)} as ${id(groupColumn('mean', s.i, mask.tag))}`);
    if (s.parts.includes('fts')) out.push(`min(${col('fts')}) ${w} as ${id(groupColumn('first', s.i, mask.tag))}`);
    if (s.parts.includes('lts')) out.push(`max(${col('lts')}) ${w} as ${id(groupColumn('last', s.i, mask.tag))}`);
    return out;
  });
}

/** A state column of the merged rows, NULL on rows outside the window's mask (aggregates skip NULLs). */
function masked(column: string, mask: WindowMask, d: Dialect): string {
  return mask.column ? `case when p.${d.quoteIdent(mask.column)} then ${column} end` : column;
}

/** A scalar feature's value from the merge's second stage (GROUP BY over rows `p` with mergeWindows); NULL for no states. */
export function mergedValue(d: Dialect, states: ColumnState[], f: AggFeature, mask: WindowMask = ALL): string {
  const id = (c: string) => d.quoteIdent(c);
  if (f.column === '*') return `sum(${masked(`p.${id(ROWS)}`, mask, d)})`;
  const s = states.find((x) => x.column === f.column)!;
  const col = (p: AggPart) => masked(`p.${id(stateColumn(p, s.i))}`, mask, d);
  const group = (part: 'mean' | 'first' | 'last') => `p.${id(groupColumn(part, s.i, mask.tag))}`;
  const n = `sum(${col('n')})`;
  const m2 = () => {
    const dev = `(${col('mean')} - ${group('mean')})`;
    return `(sum(${col('m2')}) + sum(${d.castTo(col('n'), 'float64')} * ${dev} * ${dev}))`;
  };
  const nf = d.castTo(n, 'float64');
  switch (f.function) {
    case 'count':
      return n;
    case 'sum':
      return `sum(${col('s')})`;
    case 'avg':
      return d.safeDivide(`sum(${col('s')})`, n);
    case 'min':
    case 'max':
      return `${f.function}(${col(f.function)})`;
    case 'var_pop':
      return `case when ${n} > 0 then ${m2()} / ${nf} end`;
    case 'var_samp':
      return `case when ${n} > 1 then ${m2()} / (${nf} - 1) end`;
    case 'stddev_pop':
      return `case when ${n} > 0 then sqrt(${m2()} / ${nf}) end`;
    case 'stddev_samp':
      return `case when ${n} > 1 then sqrt(${m2()} / (${nf} - 1)) end`;
    case 'first':
      return `min(case when ${col('fts')} = ${group('first')} then ${col('fv')} end)`;
    case 'last':
      return `max(case when ${col('lts')} = ${group('last')} then ${col('lv')} end)`;
    default:
      throw new Error(`${f.function} has no scalar state (feature ${f.name})`);
  }
}
