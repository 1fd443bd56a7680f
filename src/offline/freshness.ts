/**
 * `fsql freshness`, dbt's way: each source table with a `freshness:` block (the age of its newest
 * `loaded_at_field`, else `timestamp`), and each view: an online view's sync watermark (the
 * newest timestamp pushed online) and an offline view's newest row, measured against the view's
 * `freshness:` block, or, without one, against its TTL (older than the TTL, or never synced, is
 * an error). A warning leaves the command green; an error makes it exit 1.
 */
import { compileProject, type Compilation } from '../compiler/compile.js';
import { selectViews } from '../compiler/select.js';
import { renderNewest } from '../dialects/queries.js';
import type { OnlineStore } from '../online/store.js';
import type { Freshness, Project } from '../project/types.js';
import { Timestamp } from '../values.js';
import type { Warehouse } from '../warehouse/warehouse.js';

export type FreshnessStatus = 'OK' | 'PAST_TTL' | 'NO_DATA';
/** dbt's levels: pass, warn (exit 0 with a warning), error (exit 1) */
export type FreshnessLevel = 'pass' | 'warn' | 'error';

export interface ViewFreshness {
  view: string;
  ttlSeconds?: number;
  /** the view's freshness block, when it has one */
  freshness?: Freshness;
  online: boolean;
  /** the newest offline timestamp sync could push now (a non-NULL key, not after now); undefined when none or not built */
  newestOffline?: Timestamp;
  offlineBuilt: boolean;
  watermark?: Timestamp;
  /** now − watermark (online views) or now − newest offline (offline views) */
  ageSeconds?: number;
  /** newest offline − watermark: how far the online store trails the offline table */
  lagSeconds?: number;
  status: FreshnessStatus;
  /** older than the TTL (or never synced, for a view with a TTL) */
  pastTtl: boolean;
  level: FreshnessLevel;
}

export interface SourceFreshness {
  /** `source.table` */
  source: string;
  column: string;
  freshness: Freshness;
  newest?: Timestamp;
  ageSeconds?: number;
  level: FreshnessLevel;
}

export interface FreshnessReport {
  sources: SourceFreshness[];
  views: ViewFreshness[];
}

/** A level from an age and a freshness block: no age (no rows) is as bad as the block allows. */
function levelOf(ageSeconds: number | undefined, f: Freshness): FreshnessLevel {
  const past = (limit: number | undefined) => limit !== undefined && (ageSeconds === undefined || ageSeconds > limit);
  return past(f.errorAfterSeconds) ? 'error' : past(f.warnAfterSeconds) ? 'warn' : 'pass';
}

const ageOf = (now: Timestamp, t: Timestamp | undefined) => (t ? Number(now.micros - t.micros) / 1e6 : undefined);

export async function checkFreshness(project: Project, wh: Warehouse, store: OnlineStore, opts: { select?: string[]; now?: Timestamp; compilation?: Compilation } = {}): Promise<FreshnessReport> {
  const c = opts.compilation ?? (await compileProject(project));
  const now = opts.now ?? Timestamp.fromMillis(Date.now());
  await store.ping();
  const newest = async (from: Parameters<typeof renderNewest>[1], column: string, label: string, notNull: string[] = []) => {
    const [row] = await wh.query(renderNewest(wh.dialect, from, column, { notNull, until: now }), { label });
    const v = row ? Object.values(row)[0] : null;
    return v instanceof Timestamp ? v : undefined;
  };

  const selected = selectViews(project.views, c.dag, opts.select);
  // with --select, the sources those views read
  const read = opts.select ? new Set(selected.flatMap((v) => c.manifest.views[v].depends_on.sources)) : undefined;
  const sources: SourceFreshness[] = [];
  for (const [key, s] of project.sources) {
    const column = s.loadedAtField ?? s.timestamp;
    if (!s.freshness || !column || (read && !read.has(key))) continue;
    const at = await newest(c.manifest.sources[key].relation, column, `${s.file} (source ${key})`);
    const ageSeconds = ageOf(now, at);
    sources.push({ source: key, column, freshness: s.freshness, newest: at, ageSeconds, level: levelOf(ageSeconds, s.freshness) });
  }

  const views: ViewFreshness[] = [];
  for (const name of selected) {
    const view = project.views.get(name)!;
    const { online, freshness, ttlSeconds: ttl } = view.config;
    if (!online && !freshness) continue;
    const table = c.manifest.views[name].table;
    const columns = await wh.describe(table);
    const col = (n: string) => columns?.find((x) => x.name.toLowerCase() === n.toLowerCase())?.name ?? n;
    // The newest row sync could push now: a key, and not dated in the future.
    const newestOffline = columns ? await newest(table, col(view.config.timestamp), view.file, view.joinKeys.map(col)) : undefined;
    const watermark = online ? await store.getWatermark(name) : undefined;
    const ageSeconds = ageOf(now, online ? watermark : newestOffline);
    const pastTtl = online && ttl !== undefined && (ageSeconds === undefined || ageSeconds > ttl);
    views.push({
      view: name,
      ttlSeconds: ttl,
      freshness,
      online,
      newestOffline,
      offlineBuilt: columns !== undefined,
      watermark,
      ageSeconds,
      lagSeconds: watermark && newestOffline ? Number(newestOffline.micros - watermark.micros) / 1e6 : undefined,
      status: online && !watermark ? 'NO_DATA' : pastTtl ? 'PAST_TTL' : 'OK',
      pastTtl,
      level: freshness ? levelOf(ageSeconds, freshness) : pastTtl ? 'error' : 'pass',
    });
  }
  return { sources, views };
}
