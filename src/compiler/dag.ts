/** The graph of feature views built from ref(): order, ancestors, descendants and cycles. */
import { CompileError } from '../errors.js';

export class Dag {
  private readonly children = new Map<string, string[]>();

  /** `parents` maps each node to the nodes it depends on. */
  constructor(readonly parents: ReadonlyMap<string, readonly string[]>) {
    for (const n of parents.keys()) this.children.set(n, []);
    for (const [n, ps] of parents) for (const p of ps) this.children.get(p)?.push(n);
    const cycle = this.findCycle();
    if (cycle) throw new CompileError(`ref() forms a cycle: ${cycle.join(' -> ')}. Remove one of these ref() calls.`);
  }

  childrenOf(n: string): readonly string[] {
    return this.children.get(n) ?? [];
  }

  ancestors(n: string): Set<string> {
    return this.walk(n, (x) => this.parents.get(x) ?? []);
  }

  descendants(n: string): Set<string> {
    return this.walk(n, (x) => this.childrenOf(x));
  }

  /** Nodes in dependency order (parents first); ties by name so the order is stable. */
  order(nodes: Iterable<string> = this.parents.keys()): string[] {
    const wanted = new Set(nodes);
    const out: string[] = [];
    const seen = new Set<string>();
    const visit = (n: string) => {
      if (seen.has(n)) return;
      seen.add(n);
      for (const p of [...(this.parents.get(n) ?? [])].sort()) visit(p);
      if (wanted.has(n)) out.push(n);
    };
    for (const n of [...wanted].sort()) visit(n);
    return out;
  }

  private walk(start: string, next: (n: string) => readonly string[]): Set<string> {
    const seen = new Set<string>();
    const stack = [...next(start)];
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (seen.has(n)) continue;
      seen.add(n);
      stack.push(...next(n));
    }
    return seen;
  }

  private findCycle(): string[] | undefined {
    const state = new Map<string, 'open' | 'done'>();
    const path: string[] = [];
    const visit = (n: string): string[] | undefined => {
      if (state.get(n) === 'done') return undefined;
      if (state.get(n) === 'open') return [...path.slice(path.indexOf(n)), n];
      state.set(n, 'open');
      path.push(n);
      for (const p of [...(this.parents.get(n) ?? [])].sort()) {
        const c = visit(p);
        if (c) return c;
      }
      path.pop();
      state.set(n, 'done');
      return undefined;
    };
    for (const n of [...this.parents.keys()].sort()) {
      const c = visit(n);
      if (c) return c.reverse();
    }
    return undefined;
  }
}
