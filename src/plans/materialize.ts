/** What building one feature view's offline table means, as data; dialects/materialize.ts renders it. */
import type { PartitionBy } from '../project/types.js';
import type { RelationName, TimeRange } from './relation.js';

/** How a view's table is laid out for its readers; each dialect uses what it has (indexes, partitions, clustering). */
export interface TableStorage {
  /** the columns rows are looked up by: join keys, then timestamp */
  lookupKey: string[];
  /** partitions: the config's partition_by, else the timestamp by day; null: none */
  partition: PartitionBy | null;
  /** clustering: the config's cluster_by, else the join keys */
  cluster: string[];
  /** cluster_by was set in the config (where clustering bills by itself, only then) */
  clusterConfigured: boolean;
  /**
   * a column to write the rows in order of, where a table keeps rows as written and skips blocks by
   * their min and max (DuckDB): an incremental run's DELETE and scans from a time then touch only
   * the newest blocks (dialects/CONTEXT.md)
   */
  sortedBy?: string;
}

export type MaterializeKind = 'view' | 'table' | 'incremental';

export interface MaterializePlan {
  view: string;
  table: RelationName;
  kind: MaterializeKind;
  /** the view's compiled SELECT, rendered for this kind (is_incremental() true for 'incremental') */
  select: string;
  timestamp: string;
  storage: TableStorage;
  /** for 'incremental': the output rows replaced */
  range?: TimeRange;
}
