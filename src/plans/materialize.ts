/** What building one feature view's offline table means, as data; dialects/materialize.ts renders it. */
import type { RelationName, TimeRange } from './relation.js';

export type MaterializeKind = 'view' | 'table' | 'incremental';

export interface MaterializePlan {
  view: string;
  table: RelationName;
  kind: MaterializeKind;
  /** the view's compiled SELECT, rendered for this kind (is_incremental() true for 'incremental') */
  select: string;
  timestamp: string;
  /** the columns rows are looked up by: join keys, then timestamp */
  lookupKey: string[];
  /** for 'incremental': the output rows replaced */
  range?: TimeRange;
}
