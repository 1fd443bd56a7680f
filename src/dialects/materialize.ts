/** SQL for a MaterializePlan: the statements that build a view's offline table, and whether they run as one transaction. */
import type { MaterializePlan } from '../plans/materialize.js';
import type { Dialect } from './dialect.js';

export function renderMaterialize(plan: MaterializePlan, d: Dialect): { statements: string[]; atomic: boolean } {
  const table = d.relation(plan.table);
  switch (plan.kind) {
    case 'view':
      return { statements: [d.createViewAs(table, plan.select)], atomic: false };
    case 'table': {
      const statements = d.createTableAs(table, plan.select, plan.storage);
      return { statements, atomic: statements.length > 1 };
    }
    case 'incremental':
      return { statements: d.incrementalWrite(table, plan.select, plan.timestamp, plan.range ?? {}), atomic: true };
  }
}
