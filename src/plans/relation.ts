/** Names of tables as data: what plans carry, what each dialect renders (dialects/*). */
import type { Timestamp } from '../values.js';

/** A table or view; the dialect decides which parts it writes (dialect.tableIn). */
export interface RelationName {
  database?: string;
  schema?: string;
  name: string;
}

/** A time range of output rows: start inclusive, end exclusive; open where undefined. */
export interface TimeRange {
  start?: Timestamp;
  end?: Timestamp;
}
