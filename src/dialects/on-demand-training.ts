/**
 * A training table with on-demand outputs (SPEC section 10): the point-in-time SELECT (with the
 * events' row number kept) is the base; the on-demand expressions are computed over its rows in
 * layers (expression-sql.ts), reading request fields from event columns and stored features from
 * the `<view>__<feature>` columns the join produced; the outer SELECT keeps the table's columns in
 * order and adds `<view>__<feature>` for each on-demand output.
 */
import { ROW_COLUMN, outputName } from '../plans/point-in-time.js';
import type { OnDemandTraining } from '../plans/on-demand.js';
import type { Dialect } from './dialect.js';
import { layeredSelect, renderExpressions, type Layer } from './expression-sql.js';

export function renderOnDemandTraining(pit: string, d: Dialect, columns: string[], onDemand: OnDemandTraining[], ordered: boolean): string {
  const id = (c: string) => d.quoteIdent(c);
  const layers: Layer[] = [];
  const outputs: string[] = [];
  onDemand.forEach((o, k) => {
    const r = renderExpressions(o.outputs.map((i) => o.typed.items[i].expr), d, (slot) => id(o.inputColumns[slot]), `__fsql_od${k + 1}_`);
    r.layers.forEach((layer, i) => (layers[i] ??= []).push(...layer));
    o.outputs.forEach((i, j) => outputs.push(`${r.outputs[j]} as ${id(outputName(o.view, o.typed.items[i].name))}`));
  });
  const select = [...columns.map((c) => `fsql_od.${id(c)}`), ...outputs];
  return `select\n  ${select.join(',\n  ')}\nfrom (\n${layeredSelect(pit, layers.map((l) => l ?? []), d)}\n) as fsql_od${ordered ? `\norder by fsql_od.${id(ROW_COLUMN)}` : ''}`;
}
