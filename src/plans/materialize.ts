/** What building one feature view's offline table means, as data, and its SQL per dialect. */
import type { Dialect, TimeRange } from '../dialects/dialect.js';

export type MaterializeKind = 'view' | 'table' | 'incremental';

export interface MaterializePlan {
  view: string;
  relation: string;
  kind: MaterializeKind;
  /** the SELECT, rendered for this kind (is_incremental() true for 'incremental') */
  select: string;
  timestamp: string;
  /** for 'incremental': the output rows replaced */
  range?: TimeRange;
}

export function renderMaterialize(plan: MaterializePlan, dialect: Dialect): { statements: string[]; atomic: boolean } {
  switch (plan.kind) {
    case 'view':
      return { statements: [dialect.createViewAs(plan.relation, plan.select)], atomic: false };
    case 'table':
      return { statements: [dialect.createTableAs(plan.relation, plan.select)], atomic: false };
    case 'incremental':
      return { statements: dialect.incrementalWrite(plan.relation, plan.select, plan.timestamp, plan.range ?? {}), atomic: true };
  }
}
