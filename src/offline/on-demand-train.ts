/**
 * The on-demand views of a service, for `fsql train`: typed with the offline tables' column types,
 * their request fields found among the events' columns (an error names a missing one).
 */
import type { Manifest } from '../compiler/compile.js';
import { ProjectError } from '../errors.js';
import { EXPR_TYPES, type ExprType } from '../expressions/tree.js';
import type { OnDemandTraining } from '../plans/on-demand.js';
import { outputName } from '../plans/point-in-time.js';
import { typeOnDemandView } from '../project/on-demand-inputs.js';
import type { Project } from '../project/types.js';
import type { Column } from '../values.js';
import { findColumn } from './events.js';
import { featureColumns } from './feature-types.js';

export function onDemandTraining(project: Project, manifest: Manifest, service: string, tables: ReadonlyMap<string, Column[]>, eventColumns: Column[], events: string): OnDemandTraining[] {
  const wanted = new Map<string, Set<string> | null>();
  for (const ref of manifest.services[service].features) {
    if (!manifest.on_demand_views[ref.view]) continue;
    const prev = wanted.get(ref.view);
    wanted.set(ref.view, prev === null || ref.features === null ? null : new Set([...(prev ?? []), ...ref.features]));
  }
  return [...wanted].map(([name, subset]) => {
    const view = project.onDemandViews.get(name)!;
    const typed = typeOnDemandView(project, view, (v) =>
      (tables.has(v) ? featureColumns(project, v, tables.get(v)!) : undefined)?.map((col) => ({ name: col.name, type: EXPR_TYPES.includes(col.type.type as ExprType) ? (col.type.type as ExprType) : undefined })),
    );
    const inputColumns = typed.inputs.map((input) => {
      if (input.view) return outputName(input.view, input.name);
      const col = findColumn(eventColumns, input.name);
      if (!col) {
        const source = view.inputs.find((i) => project.requestSources.get(i)?.fields.some((f) => f.name === input.name));
        throw new ProjectError(view.file, `on-demand view '${name}' reads request field '${input.name}' (request source '${source}'), which the events ${events} lack; add a column '${input.name}' (${input.type}) to the events. Their columns: ${eventColumns.map((c) => c.name).join(', ')}.`, view.line);
      }
      return col.name;
    });
    const outputs = typed.items.flatMap((item, i) => (!subset || subset.has(item.name) ? [i] : []));
    return { view: name, typed, outputs, inputColumns };
  });
}
