/**
 * The online store contract (SPEC section 7). Implementations: redis/store.ts, sqlite-store.ts.
 * Values are typed (values.ts): int64 as bigint, float64 as number, booleans, strings,
 * Timestamp, arrays. Every stored row carries its feature timestamp.
 */
import type { ColumnBatch } from '../column-batch.js';
import type { DataType, ScalarType, Timestamp, Value } from '../values.js';
import type { OnlineAggFeature } from '../plans/aggregate-online.js';

/** What the store needs to know about one online feature view; written by sync, read by serve. */
export interface ViewLayout {
  view: string;
  /** join key columns, in the view's order, with their types */
  joinKeys: { name: string; type: DataType }[];
  features: { name: string; type: DataType }[];
  /** undefined: values never expire (an aggregate view: its sync_horizon) */
  ttlSeconds?: number;
  /** an aggregate view: each entity's stored value is its window state (online/aggregate/), its features computed at each request's time */
  aggregate?: AggregateLayout;
}

/** What serving needs to compute an aggregate view's features from a stored state. */
export interface AggregateLayout {
  horizonSeconds: number;
  /** the input columns the features read, with their types */
  inputs: { name: string; type: ScalarType }[];
  /** in the order of the layout's features */
  features: OnlineAggFeature[];
  /**
   * The encoding its states were written in (codec.ts STATE_ENCODING): a sync by a build that
   * writes another one finds the layout changed and writes every state again.
   */
  encoding: string;
}

/** One entity's latest row of a view. `key` holds the join key values in ViewLayout.joinKeys order. */
export interface OnlineRow {
  key: Value[];
  ts: Timestamp;
  /** created_timestamp, when the view has one: breaks ties on equal `ts` (latest wins) */
  created?: Timestamp;
  values: Record<string, Value>;
}

/**
 * Rows of one view as a warehouse batch, what `fsql sync` writes: which columns hold the join keys
 * (ViewLayout.joinKeys order), the timestamps, and each feature (ViewLayout.features order).
 */
export interface ColumnRows {
  batch: ColumnBatch;
  keys: number[];
  ts: number;
  created?: number;
  features: number[];
  /** how messages name the timestamp columns: `<file>: timestamp '<column>'` */
  tsWhat: string;
  createdWhat: string;
}

export interface StoredRow {
  ts: Timestamp;
  created?: Timestamp;
  /** the features, typed (codec.ts EncodedRow decodes them from `text` on first use) */
  readonly values: Record<string, Value>;
  /** the text the store returned: whatever the store keeps before `at`, then the features as encoded (codec.ts: layout fingerprint, then a JSON array), checked against the reader's layout */
  readonly text: string;
  /** where the features begin in `text`, in every store (Redis keeps the sort key before them, SQLite nothing: 32 and 0) */
  readonly at: number;
  /** an aggregate view's row: the events pushed to its entity, as appendPushed appended them (online/aggregate/pushed.ts); undefined: none */
  readonly pushed?: string;
}

/** Events pushed to one entity of an aggregate view (OnlineStore.appendPushed). */
export interface PushedEntry {
  key: Value[];
  /** what joins the entity's pushed-event log, as is (online/aggregate/pushed.ts) */
  text: string;
  /** until when the log must be kept, Unix ms: the store keeps it until the latest such time asked for */
  keepUntil: number;
}

/** One compare and set of OnlineStore.replace. */
export interface Replacement {
  row: OnlineRow;
  /** the stored row as read; undefined: none */
  expected: StoredRow | undefined;
  /**
   * The start of the entity's pushed-event log that `row` folded in (the log as read,
   * `expected.pushed`: its length), replaced by `kept` when the row is written; events appended
   * since stay after it.
   */
  folded?: { length: number; kept: string };
}

export interface WriteResult {
  /** rows that replaced an older value or were new */
  written: number;
  /** rows ignored because the store already held a newer (or equal) value */
  stale: number;
}

export interface SyncStats {
  view: string;
  /** finished syncs */
  runs: number;
  rows: number;
  /** syncs that failed */
  failures: number;
  /** when the last successful sync finished, Unix seconds */
  lastSuccess?: number;
  /** how long the last successful sync took, seconds */
  duration?: number;
}

/** One sync of a view as recordSync counts it. */
export type SyncRecord = { ok: true; rows: number; seconds: number; at: Timestamp } | { ok: false };

export interface ApiKeyRecord {
  id: string;
  /** sha256 of the key, hex; the key itself is never stored */
  hash: string;
  description: string;
  /** services this key may read; empty means all */
  services: string[];
  createdAt: string;
  revoked: boolean;
}

export interface OnlineStore {
  /** Human-readable location with any password removed, for messages. */
  readonly location: string;
  /** Throws OnlineStoreError when the store cannot be reached. */
  ping(): Promise<void>;
  /** Records a view's layout (types, TTL) so readers need no warehouse. */
  putLayout(layout: ViewLayout): Promise<void>;
  getLayouts(): Promise<ViewLayout[]>;
  /**
   * Writes rows in batches. Atomic per row: a row never replaces a stored row with a greater
   * (ts, created); equal or older rows count as stale. Values expire `ttlSeconds` after `ts`,
   * removed by the store itself. (A row equal in (ts, created) but with other feature values — the
   * offline table recomputed it — does replace the stored one and counts as written.)
   */
  write(layout: ViewLayout, rows: OnlineRow[]): Promise<WriteResult>;
  /**
   * The same for a warehouse batch (sync). The batch is read before this returns (its memory may
   * belong to the warehouse and not outlive the call); only encoded bytes wait for the store.
   */
  writeColumns(layout: ViewLayout, rows: ColumnRows): Promise<WriteResult>;
  /**
   * Decides the rows a store accepted from writeColumns without deciding them yet (SQLite stages a
   * large sync and upserts it in key order), and returns their counts. A sync calls it after its
   * last batch, before setWatermark; setWatermark, reads and dropView also do it, so no row is
   * ever left out, and recordSync counts what they wrote.
   */
  flush(): Promise<WriteResult>;
  /**
   * Compare and set, for read-modify-write updates (an aggregate view's pushed events folded into
   * its state): writes each row only if its entity's stored row is still `expected` (as read;
   * undefined: none), atomically per row. Returns per row whether it was written; false means
   * another writer came first: read again and retry. Expiry follows the row's ts as in write().
   */
  replace(layout: ViewLayout, changes: Replacement[]): Promise<boolean[]>;
  /**
   * Appends raw events pushed into an aggregate view (SPEC section 12) to each entity's pushed-event
   * log, which read() returns with the entity's row (StoredRow.pushed), atomically per entity and
   * with no read first: a push is one round trip. `empty` (the view's empty state at its last sync,
   * no key) becomes the entity's row where none is stored or the stored one is older (write()'s
   * monotonic rule without its equal-time case: an empty state never replaces one synced then), so
   * an entity without a state, or with one older than that sync, gets one for its events to join.
   * Returns per entry the log's length after, which tells the caller when to fold the log into the
   * state (replace `folded`).
   */
  appendPushed(layout: ViewLayout, empty: OnlineRow, entries: PushedEntry[]): Promise<number[]>;
  /** Reads one entity's rows of several views in one round trip; undefined where none (or expired). */
  read(requests: { layout: ViewLayout; key: Value[] }[]): Promise<(StoredRow | undefined)[]>;
  /** Sync progress per view: the feature timestamp up to which rows are acknowledged. */
  getWatermark(view: string): Promise<Timestamp | undefined>;
  setWatermark(view: string, ts: Timestamp): Promise<void>;
  /** Counts one sync of a view: a success with the rows it wrote, when it finished and how long it took, or a failure (for /metrics). */
  recordSync(view: string, record: SyncRecord): Promise<void>;
  /** Sync runs and rows written per view, over the store's life. */
  getSyncStats(): Promise<SyncStats[]>;
  /** Removes a view's rows, layout and watermark (sync --full-refresh). */
  dropView(view: string): Promise<void>;
  putApiKey(record: ApiKeyRecord): Promise<void>;
  listApiKeys(): Promise<ApiKeyRecord[]>;
  findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  close(): Promise<void>;
}
