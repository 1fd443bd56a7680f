/**
 * LatestPerEntity(view, since, until): for each entity of a view's offline table, its latest row
 * with timestamp in [since, until] — greatest timestamp, then greatest created_timestamp (NULL
 * lowest). What `fsql sync` reads; rendered per dialect by dialects/latest-per-entity.ts.
 */
import type { Timestamp } from '../values.js';
import type { RelationName } from './relation.js';

export interface LatestPerEntityPlan {
  view: string;
  /** the offline table */
  table: RelationName;
  /** column names as the warehouse spells them */
  joinKeys: string[];
  timestamp: string;
  createdTimestamp?: string;
  /** the view's feature columns, which settle complete ties (Dialect.tieBreak) */
  features: string[];
  /** every column to return (join keys, timestamps and features), in order; empty: all */
  columns: string[];
  /** inclusive lower bound: the sync watermark minus the view's lookback, or now minus the TTL */
  since?: Timestamp;
  /** inclusive upper bound: the sync's start, so a row dated in the future waits until it is due */
  until?: Timestamp;
}
