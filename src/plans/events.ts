/** Where `fsql train --events SRC` reads its events from, as data (offline/events.ts parses SRC). */
import type { RelationName } from './relation.js';

export type EventSource =
  | { kind: 'file'; path: string; display: string }
  | { kind: 'table'; table: RelationName; display: string }
  | { kind: 'sql'; query: string; display: string };
