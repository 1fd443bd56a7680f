/**
 * `fsql freshness`: per online view, the newest offline timestamp, the sync watermark (the newest
 * timestamp pushed online) and its age against the view's TTL.
 */
import { compileProject } from '../compiler/compile.js';
import { selectViews } from '../compiler/select.js';
import type { Project } from '../project/types.js';
import { Timestamp } from '../values.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import type { OnlineStore } from '../online/store.js';
import { renderNewest } from '../dialects/queries.js';

export type FreshnessStatus = 'OK' | 'PAST_TTL' | 'NO_DATA';

export interface ViewFreshness {
  view: string;
  ttlSeconds?: number;
  /** the newest offline timestamp sync could push now (a non-NULL key, not after now); undefined when none or not built */
  newestOffline?: Timestamp;
  offlineBuilt: boolean;
  watermark?: Timestamp;
  /** now − watermark */
  ageSeconds?: number;
  /** newest offline − watermark: how far the online store trails the offline table */
  lagSeconds?: number;
  status: FreshnessStatus;
  /** older than the TTL (or never synced, for a view with a TTL) */
  pastTtl: boolean;
}

export async function checkFreshness(project: Project, wh: Warehouse, store: OnlineStore, opts: { select?: string[]; now?: Timestamp } = {}): Promise<ViewFreshness[]> {
  const c = await compileProject(project);
  const now = opts.now ?? Timestamp.fromMillis(Date.now());
  await store.ping();
  const out: ViewFreshness[] = [];
  for (const name of selectViews(project.views, c.dag, opts.select)) {
    const view = project.views.get(name)!;
    if (!view.config.online) continue;
    const table = c.manifest.views[name].table;
    const columns = await wh.describe(table);
    let newestOffline: Timestamp | undefined;
    if (columns) {
      const col = (n: string) => columns.find((x) => x.name.toLowerCase() === n.toLowerCase())?.name ?? n;
      // The newest row sync could push now: a key, and not dated in the future.
      const sql = renderNewest(wh.dialect, table, col(view.config.timestamp), { notNull: view.joinKeys.map(col), until: now });
      const [row] = await wh.query(sql, { label: view.file });
      const v = row ? Object.values(row)[0] : null;
      if (v instanceof Timestamp) newestOffline = v;
    }
    const watermark = await store.getWatermark(name);
    const ttl = view.config.ttlSeconds;
    const ageSeconds = watermark ? Number(now.micros - watermark.micros) / 1e6 : undefined;
    const pastTtl = ttl !== undefined && (ageSeconds === undefined || ageSeconds > ttl);
    out.push({
      view: name,
      ttlSeconds: ttl,
      newestOffline,
      offlineBuilt: columns !== undefined,
      watermark,
      ageSeconds,
      lagSeconds: watermark && newestOffline ? Number(newestOffline.micros - watermark.micros) / 1e6 : undefined,
      status: !watermark ? 'NO_DATA' : pastTtl ? 'PAST_TTL' : 'OK',
      pastTtl,
    });
  }
  return out;
}
