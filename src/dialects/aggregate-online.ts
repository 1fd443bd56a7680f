/**
 * The sync query of an aggregate view (plans/aggregate-online.ts): one result, ordered by the
 * entity's keys, holding per entity its merged window states and C's distinct values as lists (a
 * string column's as JSON text; one STATE row), the raw rows the horizon needs (RAW), and C's earliest and latest rows per column
 * (FIRST, LAST), ranked by (time, value) as train ranks them. The merged parts use the tiles'
 * numerics (aggregate-state.ts partAggregate). The STATE rows group the rows of every window's C
 * (each window masks its own). A window no wider than the horizon has no merged part (every row
 * it can hold during the horizon is raw): its state columns are left out.
 */
import { partType, ROW_KIND, SYNC_COLUMNS as C, type AggregateSyncPlan } from '../plans/aggregate-online.js';
import { Timestamp, type ScalarType } from '../values.js';
import { partAggregate } from './aggregate-state.js';
import type { Dialect } from './dialect.js';

export function renderAggregateSync(plan: AggregateSyncPlan, d: Dialect): string {
  const id = (c: string) => d.quoteIdent(c);
  const at = plan.at.micros;
  const H = BigInt(Math.round(plan.horizonSeconds * 1e6));
  const lit = (micros: bigint) => d.timestampLiteral(new Timestamp(micros));
  const us = (w: number | undefined) => BigInt(Math.round((w ?? 0) * 1e6));
  const ts = `r.${id(plan.timestamp)}`;
  const input = (i: number) => `r.${id(plan.shape.inputs[i])}`;
  const keys = plan.keys.map((k) => `r.${id(k)}`);
  const events = d.relation(plan.events);
  const { windows } = plan.shape;
  /** the rows of C in window g: [s - W + H, s) (every row before s: lifetime) */
  const inC = (g: number) => {
    const w = windows[g].seconds;
    return w === undefined ? `${ts} < ${lit(at)}` : `${ts} >= ${lit(at - us(w) + H)} and ${ts} < ${lit(at)}`;
  };

  // Every branch gives every column, NULL where it has nothing, cast so the union's types agree.
  const stateColumns: { name: string; type: ScalarType; value: string }[] = [];
  /** a window no wider than the horizon has an empty C: every row it can hold is raw */
  const emptyC = (g: number) => windows[g].seconds !== undefined && windows[g].seconds! <= plan.horizonSeconds;
  windows.forEach((w, g) => {
    if (emptyC(g)) return;
    const mask = (x: string) => `case when ${inC(g)} then ${x} end`;
    if (w.rows) stateColumns.push({ name: C.rows(g), type: 'int64', value: `count(${mask('1')})` });
    w.parts.forEach((parts, i) => {
      const x = mask(input(i));
      const type = plan.inputTypes[i];
      for (const p of parts) stateColumns.push({ name: C.part(p, g, i), type: partType(p, type), value: partAggregate(d, p, x) });
    });
  });
  // C's distinct values per window and column: one list per entity on its STATE row (a row per value was most of the query's rows)
  const lists = windows.flatMap((w, g) => (emptyC(g) ? [] : w.distinct.map((i) => ({ g, i, name: C.distinct(g, i) }))));
  const branch = (kind: number, extra: { window?: number; column?: number; ts?: string; inputs?: Map<number, string>; state?: boolean }) =>
    [
      ...keys.map((k, i) => `${k} as ${id(plan.keys[i])}`),
      `${kind} as ${id(C.kind)}`,
      `${d.castTo(String(extra.window ?? 'null'), 'int64')} as ${id(C.window)}`,
      `${d.castTo(String(extra.column ?? 'null'), 'int64')} as ${id(C.column)}`,
      `${extra.ts ?? d.castTo('null', 'timestamp')} as ${id(C.ts)}`,
      ...plan.shape.inputs.map((_c, i) => `${extra.inputs?.get(i) ?? d.castTo('null', plan.inputTypes[i])} as ${id(C.input(i))}`),
      ...stateColumns.map((s) => `${d.castTo(extra.state ? `r.${id(s.name)}` : 'null', s.type)} as ${id(s.name)}`),
      // a bare NULL takes the list's type from the STATE branch, the union's first
      ...lists.map((l) => `${extra.state ? `${id(l.name)}.fsql_list` : 'null'} as ${id(l.name)}`),
    ].join(', ');

  const branches: string[] = [];
  // a STATE row per entity with a row in some window's C: [s - W + H, s) for the widest W (every
  // row before s with a lifetime window). An entity without one has empty merged parts; one with
  // no row at all gets no state and is served the empty state at the sync time
  // (online/aggregate/CONTEXT.md), which is what its state would hold.
  {
    const lifetime = windows.findIndex((w) => w.seconds === undefined);
    const widest = lifetime >= 0 ? lifetime : windows.reduce((g, w, k) => (w.seconds! > windows[g].seconds! ? k : g), 0);
    const grouped = `select ${[...keys.map((k, i) => `${k} as ${id(plan.keys[i])}`), ...stateColumns.map((s) => `${s.value} as ${id(s.name)}`)].join(', ')}\n  from ${events} as r\n  where ${inC(widest)}\n  group by ${keys.join(', ')}`;
    const joins = lists.map((l) => {
      const v = input(l.i);
      // a string column's values as JSON text: the sync stores it as it is (online/aggregate/distinct-text.ts)
      const list = plan.inputTypes[l.i] === 'string' ? d.jsonText(d.sortedDistinctArray(v)) : d.sortedDistinctArray(v);
      const values = `select ${keys.join(', ')}, ${list} as fsql_list\n    from ${events} as r\n    where ${inC(l.g)} and ${v} is not null\n    group by ${keys.join(', ')}`;
      return `\nleft join (\n    ${values}\n  ) as ${id(l.name)} on ${plan.keys.map((k) => `${id(l.name)}.${id(k)} = r.${id(k)}`).join(' and ')}`;
    });
    // the STATE branch reads the grouped rows as `r`, its keys and state columns by name
    branches.push(`select ${branch(ROW_KIND.STATE, { state: true })}\nfrom (\n  ${grouped}\n) as r${joins.join('')}`);
  }
  // raw rows: each window's band [s - W, min(s - W + H, s)), and [s, s + H); each row once
  const bands = [
    ...windows.flatMap((w) => (w.seconds === undefined ? [] : [[at - us(w.seconds), at - us(w.seconds) + H < at ? at - us(w.seconds) + H : at]])),
    [at, at + H],
  ].map(([lo, hi]) => `(${ts} >= ${lit(lo)} and ${ts} < ${lit(hi)})`);
  const all = new Map(plan.shape.inputs.map((_c, i) => [i, input(i)]));
  branches.push(`select ${branch(ROW_KIND.RAW, { ts, inputs: all })}\nfrom ${events} as r\nwhere ${bands.join(' or ')}`);
  windows.forEach((w, g) => {
    if (emptyC(g)) return;
    const ends = (kind: number, counts: number[], dir: string) =>
      counts.forEach((n, i) => {
        if (n === 0) return;
        const ranked = `select ${[...keys, ts, input(i)].join(', ')}, row_number() over (partition by ${keys.join(', ')} order by ${ts}${dir}, ${input(i)}${dir}) as fsql_rank\n  from ${events} as r\n  where ${inC(g)} and ${input(i)} is not null`;
        branches.push(`select ${branch(kind, { window: g, column: i, ts, inputs: new Map([[i, input(i)]]) })}\nfrom (\n  ${ranked}\n) as r\nwhere r.fsql_rank <= ${n}`);
      });
    ends(ROW_KIND.FIRST, w.first, '');
    ends(ROW_KIND.LAST, w.last, ' desc');
  });
  // ordered by entity only: the rows of one entity may come in any order (online/aggregate/state.ts)
  return `select * from (\n${branches.join('\nunion all\n')}\n) as fsql_sync\norder by ${plan.keys.map(id).join(', ')}`;
}
