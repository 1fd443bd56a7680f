/**
 * On-demand views of a feature service, ready to serve: each typed once with its input views'
 * types from the online store's layouts (project/on-demand-inputs.ts) and compiled into
 * evaluators (expressions/evaluate.ts) by planService. Nothing is parsed per request.
 */
import { OnlineStoreError } from '../errors.js';
import type { TypedSelect } from '../expressions/check.js';
import { EXPR_TYPES, type ExprType } from '../expressions/tree.js';
import { typeOnDemandView } from '../project/on-demand-inputs.js';
import type { Project } from '../project/types.js';
import type { ViewLayout } from './store.js';

export interface OnDemandSpec {
  view: string;
  /** the outputs the service wants, in SELECT order */
  features: string[];
  typed: TypedSelect;
}

/** The on-demand views among `refs`, typed against the layouts; OnlineStoreError when an input view was never synced. */
export function onDemandSpecs(project: Project, refs: readonly { view: string; features?: string[] | null }[], layouts: ReadonlyMap<string, ViewLayout>): OnDemandSpec[] {
  const wanted = new Map<string, Set<string> | null>();
  for (const ref of refs) {
    if (!project.onDemandViews.has(ref.view)) continue;
    const prev = wanted.get(ref.view);
    wanted.set(ref.view, prev === null || !ref.features ? null : new Set([...(prev ?? []), ...ref.features]));
  }
  return [...wanted].map(([name, subset]) => {
    const view = project.onDemandViews.get(name)!;
    for (const input of view.inputs) {
      if (project.views.has(input) && !layouts.has(input)) {
        throw new OnlineStoreError(`on-demand view '${name}' reads view '${input}', which has never been synced to this online store; run: fsql sync --select ${input}`);
      }
    }
    const typed = typeOnDemandView(project, view, (v) =>
      layouts.get(v)?.features.map((f) => ({ name: f.name, type: EXPR_TYPES.includes(f.type.type as ExprType) ? (f.type.type as ExprType) : undefined })),
    );
    const features = view.items.map((i) => i.name).filter((f) => !subset || subset.has(f));
    return { view: name, features, typed };
  });
}
