/**
 * The point-in-time rule of SPEC section 4, written out plainly over arrays, as the reference the
 * SQL strategies are checked against. For each event and view it returns every feature row that
 * the rule allows (more than one only on full ties, where any one of them is a correct answer).
 */

export type Cell = string | number | bigint | boolean | null;

export interface RefFeatureRow {
  keys: Cell[];
  /** microseconds; null = no timestamp */
  ts: bigint | null;
  created: bigint | null;
  features: Cell[];
}

export interface RefView {
  keyColumns: string[];
  ttlSeconds?: number;
  rows: RefFeatureRow[];
}

export interface RefEvent {
  keys: Record<string, Cell>;
  ts: bigint | null;
}

/** The feature rows each event may take from `view`: [] means every feature is NULL. */
export function allowedRows(view: RefView, event: RefEvent): RefFeatureRow[] {
  if (event.ts === null) return [];
  const eventKeys = view.keyColumns.map((k) => event.keys[k]);
  if (eventKeys.some((k) => k === null)) return [];
  const eventTs = event.ts;

  // Rows for the same keys, not later than the event.
  const sameKeys = view.rows.filter((r) => r.ts !== null && r.ts <= eventTs && r.keys.every((k, i) => k !== null && k === eventKeys[i]));
  if (sameKeys.length === 0) return [];

  // The latest timestamp; it must lie within the TTL (both ends inclusive).
  let latest = sameKeys[0].ts!;
  for (const r of sameKeys) if (r.ts! > latest) latest = r.ts!;
  if (view.ttlSeconds !== undefined && latest < eventTs - BigInt(view.ttlSeconds) * 1_000_000n) return [];
  const atLatest = sameKeys.filter((r) => r.ts === latest);

  // Then the greatest created_timestamp; a NULL one loses to any other.
  let created: bigint | null = null;
  for (const r of atLatest) if (r.created !== null && (created === null || r.created > created)) created = r.created;
  return atLatest.filter((r) => r.created === created);
}
