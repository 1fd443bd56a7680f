/**
 * Reading a view's rows out of a warehouse batch (store.ts ColumnRows) as values: for the stores
 * and paths that write OnlineRows (SQLite, Redis Cluster), and for what sync needs of every row
 * (its timestamp, the newest one).
 */
import { isNull, valueAt, type BatchColumn } from '../column-batch.js';
import { FsqlError } from '../errors.js';
import { Timestamp } from '../values.js';
import { coerceValue } from './codec.js';
import type { ColumnRows, OnlineRow, ViewLayout } from './store.js';

/** A cell as a timestamp (warehouses may give text or dates); null for NULL. */
export function timestampAt(col: BatchColumn, i: number, what: string): Timestamp | null {
  const v = valueAt(col, i);
  return v instanceof Timestamp || v === null ? v : (coerceValue({ type: 'timestamp' }, v, what) as Timestamp | null);
}

/** Row i's feature timestamp; a NULL one is an error (the sync query never returns it). */
export function rowTimestamp(rows: ColumnRows, i: number): Timestamp {
  const ts = timestampAt(rows.batch.columns[rows.ts], i, rows.tsWhat);
  if (!ts) throw new FsqlError(`${rows.tsWhat} is NULL in a row the sync query returned`);
  return ts;
}

/** The newest feature timestamp of the batch (undefined when it has no rows). */
export function newestTimestamp(rows: ColumnRows): Timestamp | undefined {
  const col = rows.batch.columns[rows.ts];
  if (col.kind !== 'timestamp') {
    let newest: Timestamp | undefined;
    for (let i = 0; i < rows.batch.rows; i++) {
      const ts = rowTimestamp(rows, i);
      if (!newest || ts.micros > newest.micros) newest = ts;
    }
    return newest;
  }
  // straight from the words: signed high word first, then the unsigned low word
  let best = -1;
  let hi = 0;
  let lo = 0;
  const w = col.words;
  for (let i = 0; i < rows.batch.rows; i++) {
    if (isNull(col, i)) rowTimestamp(rows, i);
    const h = w[2 * i + 1] | 0;
    if (best < 0 || h > hi || (h === hi && w[2 * i] > lo)) {
      best = i;
      hi = h;
      lo = w[2 * i];
    }
  }
  return best < 0 ? undefined : new Timestamp(col.big[best]);
}

/** The batch's rows as OnlineRows. */
export function toOnlineRows(layout: ViewLayout, rows: ColumnRows): OnlineRow[] {
  const { batch } = rows;
  const keys = rows.keys.map((c) => batch.columns[c]);
  const features = rows.features.map((c) => batch.columns[c]);
  const created = rows.created === undefined ? undefined : batch.columns[rows.created];
  const out = new Array<OnlineRow>(batch.rows);
  for (let i = 0; i < batch.rows; i++) {
    const values: OnlineRow['values'] = {};
    for (let f = 0; f < features.length; f++) values[layout.features[f].name] = valueAt(features[f], i);
    out[i] = {
      key: keys.map((c) => valueAt(c, i)),
      ts: rowTimestamp(rows, i),
      created: created ? (timestampAt(created, i, rows.createdWhat) ?? undefined) : undefined,
      values,
    };
  }
  return out;
}
