/**
 * On-demand views in the manifest: their inputs, the request fields and stored features they
 * read, and their outputs with the types inferred where every input's type is known at compile
 * time (request fields; a stored feature's type is known once its table is built or synced, and
 * train and serve type the expressions again with it).
 */
import { ProjectError } from '../errors.js';
import { NOT_KNOWN_YET } from '../expressions/check.js';
import { checkOnDemandNames, inputsOf, typeOnDemandView, type FeaturesOf } from '../project/on-demand-inputs.js';
import type { Project } from '../project/types.js';
import type { ExprType } from '../expressions/tree.js';
import type { CompiledView } from './compile.js';

export interface CompiledOnDemandView {
  name: string;
  file: string;
  materialized: 'on_demand';
  inputs: string[];
  request_fields: { source: string; name: string; type: ExprType }[];
  stored_inputs: { view: string; feature: string }[];
  /** output names, in SELECT order */
  features: string[];
  /** per output, its type; null where it depends on a stored feature whose type is not known at compile time */
  types: Record<string, ExprType | null>;
  description: string;
  owner: string;
  tags: string[];
}

export function compileOnDemandViews(project: Project, views: Record<string, CompiledView>): Record<string, CompiledOnDemandView> {
  const features: FeaturesOf = (v) => views[v]?.features?.map((name) => ({ name }));
  return Object.fromEntries(
    [...project.onDemandViews.values()].map((v) => {
      checkOnDemandNames(project, v, features);
      const inputs = inputsOf(project, v);
      // each output typed alone: those of request fields only have their type now
      const typeOf = (i: number): ExprType | null => {
        try {
          return typeOnDemandView(project, { ...v, items: [v.items[i]] }, features).items[0].type;
        } catch (e) {
          if (e instanceof ProjectError && e.detail.includes(NOT_KNOWN_YET)) return null;
          throw e;
        }
      };
      const compiled: CompiledOnDemandView = {
        name: v.name,
        file: v.file,
        materialized: 'on_demand',
        inputs: v.inputs,
        request_fields: inputs.request,
        stored_inputs: inputs.stored,
        features: v.items.map((i) => i.name),
        types: Object.fromEntries(v.items.map((item, i) => [item.name, typeOf(i)])),
        description: v.description,
        owner: v.owner,
        tags: v.tags,
      };
      return [v.name, compiled];
    }),
  );
}

export function onDemandFeatures(project: Project, view: string): string[] | null {
  return project.onDemandViews.get(view)?.items.map((i) => i.name) ?? null;
}
