/**
 * What an on-demand view's names refer to: a bare name is a field of one of its input request
 * sources, `<view>.<feature>` a stored feature of an input view (`<source>.<field>` also works).
 * Checked once the project is loaded (names and functions: stored features' types are known only
 * from a built table or a sync's layout) and typed where the types are known: compile for views
 * of request fields alone, train (the offline tables) and serve (the online layouts).
 */
import { didYouMean } from '../closest-name.js';
import { ProjectError } from '../errors.js';
import { checkNames, typeSelect, type NameUse, type Resolver, type TypedSelect } from '../expressions/check.js';
import { ExpressionError } from '../expressions/lexer.js';
import type { ExprType } from '../expressions/tree.js';
import { expressionError } from './on-demand-view.js';
import type { OnDemandView, Project } from './types.js';

/** A stored view's features with their types where known; undefined: its features are not known yet. */
export type FeaturesOf = (view: string) => { name: string; type?: ExprType }[] | undefined;

const unknownFeatures: FeaturesOf = () => undefined;

export function checkOnDemandInputs(project: Project, view: OnDemandView): void {
  for (const input of view.inputs) {
    if (project.requestSources.has(input) || project.views.has(input)) continue;
    const why = project.onDemandViews.has(input) ? `'${input}' is an on-demand view; an input is a request source or a stored feature view` : `no request source or feature view is named '${input}'`;
    throw new ProjectError(view.file, `config inputs: ${why}.${didYouMean(input, [...project.requestSources.keys(), ...project.views.keys()])} Request sources: ${[...project.requestSources.keys()].join(', ') || 'none'}.`, view.line);
  }
  checkOnDemandNames(project, view, unknownFeatures);
}

/** Types the view's outputs; throws a ProjectError at the file and line of the first problem. */
export function typeOnDemandView(project: Project, view: OnDemandView, features: FeaturesOf): TypedSelect {
  try {
    return typeSelect(view.items, resolverFor(project, view, features));
  } catch (e) {
    throw expressionError(view.file, e);
  }
}

/** Checks names against the stored views' features where they are known (names only). */
export function checkOnDemandNames(project: Project, view: OnDemandView, features: FeaturesOf): void {
  try {
    checkNames(view.items, resolverFor(project, view, features));
  } catch (e) {
    throw expressionError(view.file, e);
  }
}

export interface OnDemandInputs {
  /** request fields read, in first-use order, with their source */
  request: { source: string; name: string; type: ExprType }[];
  /** stored features read, in first-use order */
  stored: { view: string; feature: string }[];
}

/** What the view reads (its names resolved; stored features as the view names them). */
export function inputsOf(project: Project, view: OnDemandView): OnDemandInputs {
  const out: OnDemandInputs = { request: [], stored: [] };
  const resolve = resolverFor(project, view, unknownFeatures);
  const seen = new Set<string>();
  const visit = (e: unknown): void => {
    if (!e || typeof e !== 'object') return;
    const node = e as { kind?: string; qualifier?: string; name?: string; line?: number; column?: number };
    if (node.kind === 'name') {
      const ref = resolve({ qualifier: node.qualifier, name: node.name!, pos: { line: node.line!, column: node.column! } });
      const key = `${ref.view ?? ''}.${ref.name}`;
      if (!seen.has(key)) {
        seen.add(key);
        if (ref.view) out.stored.push({ view: ref.view, feature: ref.name });
        else out.request.push({ source: view.inputs.find((i) => project.requestSources.get(i)?.fields.some((f) => f.name === ref.name))!, name: ref.name, type: ref.type! });
      }
    }
    Object.values(e).forEach(visit);
  };
  view.items.forEach((i) => visit(i.expr));
  return out;
}

function resolverFor(project: Project, view: OnDemandView, features: FeaturesOf): Resolver {
  const sources = view.inputs.flatMap((i) => project.requestSources.get(i) ?? []);
  const fields = sources.flatMap((s) => s.fields.map((f) => ({ ...f, source: s.name })));
  const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
  return (use: NameUse) => {
    const shown = `${use.qualifier ? `${use.qualifier}.` : ''}${use.name}`;
    if (use.qualifier === undefined) {
      const found = fields.filter((f) => same(f.name, use.name));
      if (found.length > 1) throw new ExpressionError(use.pos, `'${use.name}' is a field of request sources ${found.map((f) => f.source).join(' and ')}; write <source>.${use.name}.`);
      if (found.length === 0) {
        throw new ExpressionError(use.pos, `unknown name '${use.name}'.${didYouMean(use.name, fields.map((f) => f.name))} Request fields of the inputs: ${fields.map((f) => f.name).join(', ') || 'none'}; a stored feature is written <view>.<feature>.`);
      }
      return { name: found[0].name, type: found[0].type };
    }
    const input = view.inputs.find((i) => same(i, use.qualifier!));
    if (!input) throw new ExpressionError(use.pos, `'${shown}': '${use.qualifier}' is not an input of this view; add it to config inputs (now ${view.inputs.join(', ')}).`);
    const source = project.requestSources.get(input);
    if (source) {
      const field = source.fields.find((f) => same(f.name, use.name));
      if (!field) throw new ExpressionError(use.pos, `request source '${input}' has no field '${use.name}'.${didYouMean(use.name, source.fields.map((f) => f.name))} Fields: ${source.fields.map((f) => f.name).join(', ')}.`);
      return { name: field.name, type: field.type };
    }
    const known = features(input);
    if (!known) return { view: input, name: use.name };
    const feature = known.find((f) => same(f.name, use.name));
    if (!feature) throw new ExpressionError(use.pos, `feature view '${input}' has no feature '${use.name}'.${didYouMean(use.name, known.map((f) => f.name))} Features: ${known.map((f) => f.name).join(', ')}.`);
    return { view: input, name: feature.name, type: feature.type };
  };
}
