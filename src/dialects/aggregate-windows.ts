/**
 * The windows of an aggregate view at each event's time, in the training query (SPEC section 9):
 * for an event at t (tile f = floor(t / tile)) and a window W, the rows with t - W <= ts < t are
 *   - the whole tiles lo .. f-1, lo = ceil((t - W) / tile): their states, from the tiles table;
 *   - the head, the raw rows of tile f before t;
 *   - the tail, the raw rows of tile floor((t - W) / tile) from t - W on, when that tile is partial;
 * (lifetime: every tile before f, and the head). These three never overlap and cover the window, so
 * each event meets its window's tiles and at most two tiles of raw rows, never every raw row of its
 * window. Scalar functions merge states (aggregate-state.ts); count_distinct takes the distinct
 * values of whole tiles and edge rows; first_n/last_n rank the end rows of whole tiles and edge rows.
 */
import { countsDistinct, isLifetime, TILE_COLUMN, type AggFeature } from '../plans/aggregate.js';
import { ROW_COLUMN, TS_COLUMN, type PitFeature, type PitView, type PointInTimePlan } from '../plans/point-in-time.js';
import { columnStates, isScalar, mergedValue, mergeWindows, rowState, stateColumns } from './aggregate-state.js';
import type { Dialect } from './dialect.js';

export interface AggregateParts {
  ctes: string[];
  joins: string[];
  /** a feature's output expression (before the training table's type cast) */
  value(viewIndex: number, f: PitFeature): string;
}

const US = 'fsql_us';
const TILE = 'fsql_tile';
const edgeOf = (g: number) => `fsql_edge_${g}`;
const loOf = (g: number) => `fsql_lo_${g}`;

/** The CTEs and joins of every aggregate view of the plan, and how to read their features. */
export function renderAggregateParts(plan: PointInTimePlan, d: Dialect, events: string): AggregateParts {
  const ctes: string[] = [];
  const joins: string[] = [];
  const where = new Map<string, string>();
  plan.views.forEach((v, i) => {
    if (!v.aggregate) return;
    const parts = renderView(v, i, d, events);
    ctes.push(...parts.ctes);
    for (const [alias, names] of parts.outputs) {
      joins.push(`left join ${alias} on ${alias}.${d.quoteIdent(ROW_COLUMN)} = e.${d.quoteIdent(ROW_COLUMN)}`);
      for (const n of names) where.set(`${i}/${n}`, alias);
    }
  });
  return {
    ctes,
    joins,
    value: (viewIndex, f) => {
      const v = plan.views[viewIndex];
      const feature = v.aggregate!.spec.features.find((x) => x.name === f.column)!;
      const x = `${where.get(`${viewIndex}/${f.column}`)}.${d.quoteIdent(f.column)}`;
      const valid = [...v.keys.map((k) => `e.${d.quoteIdent(k.event)}`), `e.${d.quoteIdent(TS_COLUMN)}`].map((c) => `${c} is not null`).join(' and ');
      switch (feature.function) {
        case 'count':
        case 'count_distinct':
        case 'approx_count_distinct':
        case 'sum':
          return `case when ${valid} then coalesce(${x}, 0) end`;
        case 'first_n':
        case 'last_n':
          return `case when ${valid} then ${d.orEmptyArray(x)} end`;
        default:
          return x;
      }
    },
  };
}

/**
 * The windows of one view: per width, the lifetime window's scalar and distinct features and every
 * window's first_n/last_n; then the bounded windows' scalar and distinct features in one pass
 * (renderBounded). Returns the CTEs and the (alias, feature names) they output.
 */
function renderView(v: PitView, i: number, d: Dialect, events: string): { ctes: string[]; outputs: [string, string[]][] } {
  const id = (c: string) => d.quoteIdent(c);
  const agg = v.aggregate!;
  const spec = agg.spec;
  const T = Math.round(spec.tileSeconds * 1e6);
  const widths = [...new Set(spec.features.filter((f) => v.features.some((pf) => pf.column === f.name)).map((f) => f.windowSeconds))];
  const ev = `fsql_a${i}`;
  const us = d.epochMicros(`e.${id(TS_COLUMN)}`);
  const bounds = widths.flatMap((w, g) => {
    if (w === undefined) return [];
    const start = `${us} - ${Math.round(w * 1e6)}`;
    const edge = d.floorDivide(start, T);
    return [`${edge} as ${id(edgeOf(g))}`, `${edge} + case when (${edge}) * ${T} = ${start} then 0 else 1 end as ${id(loOf(g))}`];
  });
  const present = [...v.keys.map((k) => `e.${id(k.event)} is not null`), `e.${id(TS_COLUMN)} is not null`].join(' and ');
  const ctes = [
    `${ev} as (\n  select ${[`e.${id(ROW_COLUMN)}`, ...v.keys.map((k) => `e.${id(k.event)} as ${id(k.column)}`), `e.${id(TS_COLUMN)}`, `${us} as ${id(US)}`, `${d.floorDivide(us, T)} as ${id(TILE)}`, ...bounds].join(', ')}\n  from ${events} as e\n  where ${present}\n)`,
  ];
  const outputs: [string, string[]][] = [];
  widths.forEach((w, g) => {
    const features = spec.features.filter((f) => f.windowSeconds === w && v.features.some((pf) => pf.column === f.name));
    const keyEq = (alias: string) => v.keys.map((k) => `${alias}.${id(k.column)} = e.${id(k.column)}`);
    const tile = (alias: string) => `${alias}.${id(TILE_COLUMN)}`;
    const t = `e.${id(TS_COLUMN)}`;
    const whole = isLifetime({ windowSeconds: w }) ? [`${tile('s')} < e.${id(TILE)}`] : [`${tile('s')} >= e.${id(loOf(g))}`, `${tile('s')} < e.${id(TILE)}`];
    const from = w === undefined ? [] : [`r.${id(v.timestamp)} >= ${d.timeSub(t, w)}`];
    const head = [`${tile('r')} = e.${id(TILE)}`, `r.${id(v.timestamp)} < ${t}`, ...from];
    const tail = w === undefined ? undefined : [`${tile('r')} = e.${id(edgeOf(g))}`, `e.${id(edgeOf(g))} < e.${id(loOf(g))}`, `e.${id(edgeOf(g))} < e.${id(TILE)}`, ...from];
    const events_ = d.relation(agg.tables.events);
    /** whole tiles of `table` (alias s) and the edge rows of the events (alias r), each with the columns given */
    const pieces = (table: string, wholeCols: string[], rowCols: string[], rowWhere: string[] = []) =>
      [
        `select e.${id(ROW_COLUMN)}, ${wholeCols.join(', ')}\n    from ${ev} as e join ${table} as s on ${[...keyEq('s'), ...whole].join(' and ')}`,
        `select e.${id(ROW_COLUMN)}, ${rowCols.join(', ')}\n    from ${ev} as e join ${events_} as r on ${[...keyEq('r'), ...head, ...rowWhere].join(' and ')}`,
        ...(tail ? [`select e.${id(ROW_COLUMN)}, ${rowCols.join(', ')}\n    from ${ev} as e join ${events_} as r on ${[...keyEq('r'), ...tail, ...rowWhere].join(' and ')}`] : []),
      ].join('\n    union all\n    ');
    const name = `${ev}_w${g}`;

    // Scalar and distinct features of bounded windows are computed in one pass for all windows (below).
    const scalar = w === undefined ? features.filter(isScalar) : [];
    if (scalar.length > 0) {
      const states = columnStates(spec, scalar);
      const cols = stateColumns(states);
      const p = pieces(d.relation(agg.tables.tiles), cols.map((c) => `s.${id(c)}`), rowState(d, states, v.timestamp));
      const windows = mergeWindows(d, states, `p.${id(ROW_COLUMN)}`);
      const staged = windows.length > 0 ? `(\n  select p.*, ${windows.join(', ')}\n  from (\n    ${p}\n  ) as p\n) as p` : `(\n    ${p}\n  ) as p`;
      ctes.push(`${name} as (\n  select p.${id(ROW_COLUMN)}, ${scalar.map((f) => `${mergedValue(d, states, f)} as ${id(f.name)}`).join(', ')}\n  from ${staged}\n  group by p.${id(ROW_COLUMN)}\n)`);
      outputs.push([name, scalar.map((f) => f.name)]);
    }
    for (const x of w === undefined ? agg.tables.distinct : []) {
      const fs = features.filter((f) => countsDistinct(f.function) && f.column === x.column);
      if (fs.length === 0) continue;
      const c = `r.${id(x.column)}`;
      const alias = `${name}_d_${x.column}`;
      const p = pieces(d.relation(x.table), ['s.v'], [`${c} as v`], [`${c} is not null`]);
      ctes.push(`${alias} as (\n  select p.${id(ROW_COLUMN)}, ${fs.map((f) => `count(distinct p.v) as ${id(f.name)}`).join(', ')}\n  from (\n    ${p}\n  ) as p\n  group by p.${id(ROW_COLUMN)}\n)`);
      outputs.push([alias, fs.map((f) => f.name)]);
    }
    for (const x of agg.tables.ends) {
      const fs = features.filter((f) => (f.function === 'first_n' || f.function === 'last_n') && f.column === x.column);
      if (fs.length === 0) continue;
      const c = `r.${id(x.column)}`;
      const cands = `${name}_e_${x.column}`;
      ctes.push(`${cands} as (\n  select * from (\n    ${pieces(d.relation(x.table), ['s.ts', 's.v'], [`r.${id(v.timestamp)} as ts`, `${c} as v`], [`${c} is not null`])}\n  ) as p\n)`);
      fs.forEach((f: AggFeature, j) => {
        const alias = `${cands}_${j}`;
        const dir = f.function === 'first_n' ? '' : ' desc';
        ctes.push(
          `${alias} as (\n  select p.${id(ROW_COLUMN)}, ${d.orderedArray('p.v', ['p.ts', 'p.v'])} as ${id(f.name)}\n  from (\n    select c.*, row_number() over (partition by c.${id(ROW_COLUMN)} order by c.ts${dir}, c.v${dir}) as fsql_rank\n    from ${cands} as c\n  ) as p\n  where p.fsql_rank <= ${f.n}\n  group by p.${id(ROW_COLUMN)}\n)`,
        );
        outputs.push([alias, [f.name]]);
      });
    }
  });
  renderBounded(v, ev, widths, d, ctes, outputs);
  return { ctes, outputs };
}

/**
 * The scalar and distinct features of every bounded window of a view in one pass: the whole tiles
 * of the longest window, the head rows (tile f, before t) once, and each window's tail rows, each
 * piece marked with the windows it belongs to (`fsql_in_<g>`); each window then aggregates the
 * pieces of its mask. One join per kind of piece instead of one per window.
 */
function renderBounded(v: PitView, ev: string, widths: (number | undefined)[], d: Dialect, ctes: string[], outputs: [string, string[]][]): void {
  const id = (c: string) => d.quoteIdent(c);
  const agg = v.aggregate!;
  const spec = agg.spec;
  const selected = (f: AggFeature) => f.windowSeconds !== undefined && v.features.some((pf) => pf.column === f.name);
  const windowOf = (f: AggFeature) => ({ w: f.windowSeconds!, g: widths.indexOf(f.windowSeconds) });
  const inWindow = (g: number) => `fsql_in_${g}`;
  const keyEq = (alias: string) => v.keys.map((k) => `${alias}.${id(k.column)} = e.${id(k.column)}`);
  const tile = (alias: string) => `${alias}.${id(TILE_COLUMN)}`;
  const t = `e.${id(TS_COLUMN)}`;
  const ts = `r.${id(v.timestamp)}`;
  const events = d.relation(agg.tables.events);

  /** whole tiles of `table` (alias s) for the longest of `features`' windows, head rows, tail rows (alias r), each marked with its windows */
  const pieces = (features: AggFeature[], table: string, wholeCols: string[], rowCols: string[], rowWhere: string[] = []) => {
    const bounded = [...new Map(features.map((f) => [windowOf(f).g, windowOf(f)])).values()];
    const longest = bounded.reduce((a, b) => (b.w > a.w ? b : a));
    const byWindow = (which: string, pick: (x: { w: number; g: number }) => string) => `case ${which} ${bounded.map((x) => `when ${x.g} then ${pick(x)}`).join(' ')} end`;
    const tails =
      `(\n      select e.*, ws.fsql_w, ${byWindow('ws.fsql_w', ({ g }) => `e.${id(edgeOf(g))}`)} as fsql_edge, ${byWindow('ws.fsql_w', ({ w }) => d.timeSub(t, w))} as fsql_from\n` +
      `      from ${ev} as e cross join (${bounded.map(({ g }) => `select ${g} as fsql_w`).join(' union all ')}) as ws\n    ) as e`;
    const partial = byWindow('e.fsql_w', ({ g }) => `e.${id(edgeOf(g))} < e.${id(loOf(g))} and e.${id(edgeOf(g))} < e.${id(TILE)}`);
    return [
      `select e.${id(ROW_COLUMN)}, ${[...wholeCols, ...bounded.map(({ g }) => `${tile('s')} >= e.${id(loOf(g))} as ${id(inWindow(g))}`)].join(', ')}\n` +
        `    from ${ev} as e join ${table} as s on ${[...keyEq('s'), `${tile('s')} >= e.${id(loOf(longest.g))}`, `${tile('s')} < e.${id(TILE)}`].join(' and ')}`,
      `select e.${id(ROW_COLUMN)}, ${[...rowCols, ...bounded.map(({ g, w }) => `${ts} >= ${d.timeSub(t, w)} as ${id(inWindow(g))}`)].join(', ')}\n` +
        `    from ${ev} as e join ${events} as r on ${[...keyEq('r'), `${tile('r')} = e.${id(TILE)}`, `${ts} < ${t}`, `${ts} >= ${d.timeSub(t, longest.w)}`, ...rowWhere].join(' and ')}`,
      `select e.${id(ROW_COLUMN)}, ${[...rowCols, ...bounded.map(({ g }) => `e.fsql_w = ${g} as ${id(inWindow(g))}`)].join(', ')}\n` +
        `    from ${tails} join ${events} as r on ${[...keyEq('r'), `${tile('r')} = e.fsql_edge`, `${ts} >= e.fsql_from`, `(${partial})`, ...rowWhere].join(' and ')}`,
    ].join('\n    union all\n    ');
  };

  const scalar = spec.features.filter((f) => selected(f) && isScalar(f));
  if (scalar.length > 0) {
    const name = `${ev}_s`;
    const states = columnStates(spec, scalar);
    const p = pieces(scalar, d.relation(agg.tables.tiles), stateColumns(states).map((c) => `s.${id(c)}`), rowState(d, states, v.timestamp));
    const mask = (g: number) => ({ column: inWindow(g), tag: `_w${g}` });
    const groups = [...new Set(scalar.map((f) => windowOf(f).g))];
    const windows = groups.flatMap((g) => mergeWindows(d, columnStates(spec, scalar.filter((f) => windowOf(f).g === g)), `p.${id(ROW_COLUMN)}`, mask(g)));
    const staged = windows.length > 0 ? `(\n  select p.*, ${windows.join(', ')}\n  from (\n    ${p}\n  ) as p\n) as p` : `(\n    ${p}\n  ) as p`;
    ctes.push(`${name} as (\n  select p.${id(ROW_COLUMN)}, ${scalar.map((f) => `${mergedValue(d, states, f, mask(windowOf(f).g))} as ${id(f.name)}`).join(', ')}\n  from ${staged}\n  group by p.${id(ROW_COLUMN)}\n)`);
    outputs.push([name, scalar.map((f) => f.name)]);
  }
  for (const x of agg.tables.distinct) {
    const fs = spec.features.filter((f) => selected(f) && countsDistinct(f.function) && f.column === x.column);
    if (fs.length === 0) continue;
    const c = `r.${id(x.column)}`;
    const alias = `${ev}_d_${x.column}`;
    const p = pieces(fs, d.relation(x.table), ['s.v'], [`${c} as v`], [`${c} is not null`]);
    ctes.push(`${alias} as (\n  select p.${id(ROW_COLUMN)}, ${fs.map((f) => `count(distinct case when p.${id(inWindow(windowOf(f).g))} then p.v end) as ${id(f.name)}`).join(', ')}\n  from (\n    ${p}\n  ) as p\n  group by p.${id(ROW_COLUMN)}\n)`);
    outputs.push([alias, fs.map((f) => f.name)]);
  }
}
