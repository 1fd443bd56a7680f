/**
 * On-demand views in a training plan (SPEC section 10): their stored inputs are joined point in
 * time like any feature, and their outputs are computed over the joined rows
 * (dialects/on-demand-training.ts). Warehouse-neutral data.
 */
import type { Manifest } from '../compiler/compile.js';
import type { TypedSelect } from '../expressions/check.js';
import { outputName } from './point-in-time.js';

/** The stored features an on-demand view reads, as service feature refs (one per view). */
export function onDemandInputRefs(manifest: Manifest, view: string): { view: string; features: string[] }[] {
  const byView = new Map<string, string[]>();
  for (const s of manifest.on_demand_views[view]?.stored_inputs ?? []) byView.set(s.view, [...(byView.get(s.view) ?? []), s.feature]);
  return [...byView].map(([v, features]) => ({ view: v, features }));
}

/** One on-demand view of a training table: the outputs the service wants, typed, and where each input is read. */
export interface OnDemandTraining {
  view: string;
  typed: TypedSelect;
  /** indexes into typed.items of the outputs, in SELECT order */
  outputs: number[];
  /** per input slot, the column of the joined rows: an event column (request field) or `<view>__<feature>` */
  inputColumns: string[];
}

/** The columns of the joined rows that a training table outputs: stored features the service itself names (not those only on-demand views read). */
export function servedStoredOutputs(manifest: Manifest, service: string): (view: string, feature: string) => boolean {
  const whole = new Set<string>();
  const some = new Set<string>();
  for (const ref of manifest.services[service].features) {
    if (!manifest.views[ref.view]) continue;
    if (ref.features === null) whole.add(ref.view);
    else for (const f of ref.features) some.add(outputName(ref.view, f));
  }
  return (view, feature) => whole.has(view) || some.has(outputName(view, feature));
}
