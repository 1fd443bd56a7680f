/**
 * The state of a project as last applied to a target (`fsql run`/`build` record it in the
 * warehouse table `fsql_state`), and what `fsql plan` says of the difference: per view new,
 * removed, unchanged or changed, and whether a change is breaking (the offline table needs a
 * rebuild and its online values a resync) or not (SPEC section 13). Warehouse-neutral data.
 */
import type { Manifest } from '../compiler/compile.js';

export interface ViewState {
  /** the compiled SELECT */
  sql: string;
  entities: string[];
  timestamp: string;
  createdTimestamp?: string;
  ttlSeconds?: number;
  materialized: string;
  /** feature columns and, when the table was built, their types */
  features: { name: string; type?: string }[] | null;
  description: string;
}

export interface ProjectState {
  views: Record<string, ViewState>;
  services: Record<string, { views: string[] }>;
}

export type ChangeKind = 'new' | 'removed' | 'unchanged' | 'changed';

export interface ViewChange {
  view: string;
  kind: ChangeKind;
  breaking: boolean;
  /** what changed, in words */
  reasons: string[];
}

/** The project's state from its manifest, with feature types where a run has just described them. */
export function stateOf(manifest: Manifest, types: ReadonlyMap<string, ReadonlyMap<string, string>> = new Map()): ProjectState {
  return {
    views: Object.fromEntries(
      Object.values(manifest.views).map((v) => [
        v.name,
        {
          sql: v.compiled_sql,
          entities: v.config.entities,
          timestamp: v.config.timestamp,
          createdTimestamp: v.config.createdTimestamp,
          ttlSeconds: v.config.ttlSeconds,
          materialized: v.config.materialized,
          features: v.features?.map((f) => ({ name: f, type: types.get(v.name)?.get(f.toLowerCase()) })) ?? null,
          description: v.config.description,
        },
      ]),
    ),
    services: Object.fromEntries(Object.entries(manifest.services).map(([name, s]) => [name, { views: [...new Set(s.features.map((f) => f.view))] }])),
  };
}

/**
 * Per view, what changed from `applied` to `desired`. `sameLogic(old, new, added)` says whether
 * two SELECTs compute the same apart from the added feature columns (a parser's judgement).
 */
export async function diffStates(
  applied: ProjectState | undefined,
  desired: ProjectState,
  sameLogic: (before: string, after: string, added: string[]) => Promise<boolean>,
): Promise<ViewChange[]> {
  const names = [...new Set([...Object.keys(applied?.views ?? {}), ...Object.keys(desired.views)])].sort();
  const out: ViewChange[] = [];
  for (const view of names) out.push(await diffView(view, applied?.views[view], desired.views[view], sameLogic));
  return out;
}

async function diffView(view: string, before: ViewState | undefined, after: ViewState | undefined, sameLogic: (before: string, after: string, added: string[]) => Promise<boolean>): Promise<ViewChange> {
  {
    if (!before) return { view, kind: 'new', breaking: false, reasons: ['new view'] };
    if (!after) return { view, kind: 'removed', breaking: true, reasons: ['removed from the project'] };
    const breaking: string[] = [];
    const other: string[] = [];
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    if (!same(before.entities, after.entities)) breaking.push(`entities ${before.entities.join(', ')} -> ${after.entities.join(', ')}`);
    if (before.timestamp !== after.timestamp) breaking.push(`timestamp ${before.timestamp} -> ${after.timestamp}`);
    if (before.createdTimestamp !== after.createdTimestamp) breaking.push('created_timestamp changed');
    if (before.ttlSeconds !== after.ttlSeconds) breaking.push(`ttl ${before.ttlSeconds ?? 'none'}s -> ${after.ttlSeconds ?? 'none'}s`);
    if (before.materialized !== after.materialized) breaking.push(`materialized ${before.materialized} -> ${after.materialized}`);
    let added: string[] = [];
    if (before.features && after.features) {
      const now = new Map(after.features.map((f) => [f.name.toLowerCase(), f]));
      const had = new Set(before.features.map((f) => f.name.toLowerCase()));
      for (const f of before.features) {
        const g = now.get(f.name.toLowerCase());
        if (!g) breaking.push(`feature ${f.name} removed`);
        else if (f.type && g.type && f.type !== g.type) breaking.push(`feature ${f.name} retyped ${f.type} -> ${g.type}`);
      }
      added = after.features.filter((f) => !had.has(f.name.toLowerCase())).map((f) => f.name);
      if (added.length > 0) other.push(`feature${added.length > 1 ? 's' : ''} ${added.join(', ')} added`);
    }
    if (before.sql !== after.sql && !(await sameLogic(before.sql, after.sql, added))) breaking.push('logic changed (the SELECT computes something else)');
    if (before.description !== after.description) other.push('description changed');
    if (breaking.length === 0 && other.length === 0) return { view, kind: 'unchanged', breaking: false, reasons: [] };
    return { view, kind: 'changed', breaking: breaking.length > 0, reasons: [...breaking, ...other] };
  }
}
