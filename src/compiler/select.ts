/**
 * dbt node selection over feature views: `name`, `tag:x`, `path:models/x`, `+name`, `name+`;
 * a space separates a union, a comma an intersection; --exclude removes what it selects.
 */
import { ProjectError } from '../errors.js';
import type { ViewDef } from '../project/types.js';
import type { Dag } from './dag.js';

/** `modified`: the views `state:modified` names (new or changed since the applied state), when the caller read it. */
export function selectViews(views: ReadonlyMap<string, ViewDef>, dag: Dag, select?: string[], exclude?: string[], modified?: ReadonlySet<string>): string[] {
  const all = new Set(views.keys());
  const chosen = select && select.length > 0 ? evaluate(select, views, dag, '--select', modified) : all;
  const removed = exclude && exclude.length > 0 ? evaluate(exclude, views, dag, '--exclude', modified) : new Set<string>();
  return dag.order([...chosen].filter((n) => !removed.has(n)));
}

/** Whether selectors use `state:` (the caller must then read the applied state first). */
export function usesState(...selectors: (string[] | undefined)[]): boolean {
  return selectors.some((s) => s?.some((a) => /(^|[\s,+])state:/.test(a)));
}

function evaluate(args: string[], views: ReadonlyMap<string, ViewDef>, dag: Dag, flag: string, modified: ReadonlySet<string> | undefined): Set<string> {
  const union = new Set<string>();
  for (const term of args.flatMap((a) => a.split(/\s+/)).filter(Boolean)) {
    const parts = term.split(',').map((atom) => matchAtom(atom, views, dag, flag, modified));
    for (const n of parts[0]) if (parts.every((p) => p.has(n))) union.add(n);
  }
  return union;
}

function matchAtom(atom: string, views: ReadonlyMap<string, ViewDef>, dag: Dag, flag: string, modified: ReadonlySet<string> | undefined): Set<string> {
  const m = /^(\d*\+)?(.*?)(\+\d*)?$/.exec(atom)!;
  const [, up, body, down] = m;
  const base = new Set<string>();
  const colon = body.indexOf(':');
  const method = colon > 0 ? body.slice(0, colon) : 'name';
  const value = colon > 0 ? body.slice(colon + 1) : body;
  for (const v of views.values()) {
    if (method === 'name' && matchesGlob(v.name, value)) base.add(v.name);
    else if (method === 'tag' && v.config.tags.includes(value)) base.add(v.name);
    else if (method === 'path' && isUnder(v.file, value)) base.add(v.name);
    else if (method === 'state') {
      if (value !== 'modified') throw new ProjectError(flag, `'${atom}': the state method knows state:modified (new or changed since the last run or build).`);
      if (!modified) throw new ProjectError(flag, `'${atom}' needs the state applied to the target; this command does not read it (use it with run, build or plan).`);
      if (modified.has(v.name)) base.add(v.name);
    } else if (!['name', 'tag', 'path'].includes(method)) {
      throw new ProjectError(flag, `unknown selector method '${method}:' in '${atom}'. Use a view name, tag:x, path:models/x, state:modified, +name or name+.`);
    }
  }
  if (base.size === 0 && method === 'name' && !value.includes('*')) {
    throw new ProjectError(flag, `'${atom}' matches no feature view. Views: ${[...views.keys()].join(', ')}.`);
  }
  const out = new Set(base);
  for (const n of base) {
    if (up) limitDepth(dag, n, up, 'up').forEach((x) => out.add(x));
    if (down) limitDepth(dag, n, down, 'down').forEach((x) => out.add(x));
  }
  return out;
}

function limitDepth(dag: Dag, start: string, marker: string, dir: 'up' | 'down'): Set<string> {
  const depth = marker.replace('+', '') === '' ? Infinity : Number(marker.replace('+', ''));
  if (depth === Infinity) return dir === 'up' ? dag.ancestors(start) : dag.descendants(start);
  const out = new Set<string>();
  let frontier = [start];
  for (let d = 0; d < depth; d++) {
    frontier = frontier.flatMap((n) => (dir === 'up' ? [...(dag.parents.get(n) ?? [])] : [...dag.childrenOf(n)])).filter((n) => !out.has(n));
    frontier.forEach((n) => out.add(n));
  }
  return out;
}

function matchesGlob(name: string, pattern: string): boolean {
  if (!pattern.includes('*')) return name === pattern;
  return new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(name);
}

function isUnder(file: string, path: string): boolean {
  const p = path.replace(/\/+$/, '');
  return file === p || file.startsWith(`${p}/`) || file === `${p}.sql`;
}
