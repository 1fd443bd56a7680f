/**
 * How every view's sync starts, plain or aggregate: a layout that changed since the last sync
 * (or --full-refresh) drops the view's online rows and is stored anew, and the sync continues
 * from the view's watermark otherwise.
 */
import type { Logger } from '../log.js';
import { sameLayout } from '../online/codec.js';
import type { OnlineStore, ViewLayout } from '../online/store.js';
import type { Timestamp } from '../values.js';

export async function startViewSync(store: OnlineStore, log: Logger, layout: ViewLayout, stored: ViewLayout | undefined, fullRefreshAsked = false): Promise<{ fullRefresh: boolean; previous?: Timestamp }> {
  let fullRefresh = fullRefreshAsked;
  if (stored && !sameLayout(stored, layout)) {
    const changed = layout.aggregate ? 'aggregations, input types, sync_horizon or state encoding' : 'columns, types or TTL';
    log.info(`NOTE ${layout.view}: its ${changed} changed since the last sync; pushing it again from scratch`);
    fullRefresh = true;
  }
  if (fullRefresh) await store.dropView(layout.view);
  if (fullRefresh || !stored) await store.putLayout(layout);
  return { fullRefresh, previous: fullRefresh ? undefined : await store.getWatermark(layout.view) };
}
