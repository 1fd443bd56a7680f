/**
 * The rows of one write as the store encoders read them, one row at a time by index: from
 * OnlineRows (rowSource: pushes, tests) or straight from a warehouse batch (column-codec.ts: sync).
 * Both write the same bytes for the same row.
 */
import type { Timestamp } from '../values.js';
import type { AsciiWriter } from './ascii-writer.js';
import { expiresAtMicros, writeStored } from './codec.js';
import { entityAfterName } from './keys.js';
import type { OnlineRow, ViewLayout } from './store.js';

export interface RowSource {
  readonly length: number;
  /** false when row i has a NULL join key: it is never stored */
  hasKey(i: number): boolean;
  /** row i's entity id after its first `name=` (keys.ts entityAfterName) */
  writeEntity(w: AsciiWriter, i: number): void;
  /** row i's stored value (codec.ts writeStored) */
  writeStored(w: AsciiWriter, i: number): void;
  /** row i's PXAT argument (expiryArg) */
  expiry(i: number): number;
}

export function rowSource(layout: ViewLayout, rows: readonly OnlineRow[]): RowSource {
  const entities = rows.map((r) => entityAfterName(layout, r.key));
  return {
    length: rows.length,
    hasKey: (i) => entities[i] !== undefined,
    writeEntity: (w, i) => w.text(entities[i]!),
    writeStored: (w, i) => writeStored(w, layout, rows[i]),
    expiry: (i) => expiryArg(layout, rows[i].ts),
  };
}

/** The PXAT argument: expiry in Unix ms; 0 for no TTL, -1 for already expired before 1970. */
export function expiryArg(layout: ViewLayout, ts: Timestamp): number {
  if (layout.ttlSeconds === undefined) return 0;
  const fast = expiryFromMicros(layout.ttlSeconds, Number(ts.micros));
  if (fast !== undefined) return fast;
  const ms = expiresAtMicros(layout, ts.micros)! / 1000n;
  return ms <= 0n ? -1 : Number(ms);
}

/** expiryArg for a TTL and a timestamp's microseconds as a number; undefined unless both it and the expiry are exact (below 2^53). */
export function expiryFromMicros(ttlSeconds: number, micros: number): number | undefined {
  const at = micros + Math.round(ttlSeconds * 1e6);
  if (!Number.isSafeInteger(micros) || !Number.isSafeInteger(at)) return undefined;
  return at < 1000 ? -1 : Math.floor(at / 1000);
}
