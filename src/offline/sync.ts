/**
 * `fsql sync`: the latest row per entity of every selected online view, computed in the warehouse
 * (dialect SQL), streamed chunk by chunk into the online store with several write batches in flight.
 *
 * Incremental and crash-safe: each view's watermark (the newest feature timestamp pushed) lives in
 * the online store and moves only after every row of the run is acknowledged. A run reads rows
 * from (watermark − lookback), so late rows inside the lookback arrive, and a run killed at any
 * point is repaired by the next one: rewriting a row the store already holds is a no-op under the
 * monotonic rule, so nothing is lost or doubled.
 */
import { compileProject, featuresOf, type Compilation } from '../compiler/compile.js';
import { selectViews } from '../compiler/select.js';
import { renderLatestPerEntity } from '../dialects/latest-per-entity.js';
import { FsqlError } from '../errors.js';
import type { Logger } from '../log.js';
import type { LatestPerEntityPlan } from '../plans/latest-per-entity.js';
import type { Project, Target, ViewDef } from '../project/types.js';
import type { ColumnBatch } from '../column-batch.js';
import { Timestamp, typeName, type Column } from '../values.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { newestTimestamp } from '../online/column-rows.js';
import type { ColumnRows, OnlineStore, ViewLayout, WriteResult } from '../online/store.js';
import { DEFAULT_CHUNK_ROWS, DEFAULT_INFLIGHT, Inflight } from './inflight-writes.js';
import { syncAggregateView } from './sync-aggregate.js';
import { startViewSync } from './sync-start.js';

export interface SyncOptions {
  select?: string[];
  exclude?: string[];
  /** drop each view's online rows, layout and watermark, and push everything again */
  fullRefresh?: boolean;
  /** the sync's clock (default: now); rows dated after it wait for a later run */
  now?: Timestamp;
  /** rows per warehouse page and per store write batch (DuckDB: its own chunks, up to 2,048 rows) */
  chunkRows?: number;
  /** write batches in flight at once (DuckDB batches hold up to 2,048 rows: about 20,000 rows in flight by default) */
  inflight?: number;
  /** called after every acknowledged batch */
  onProgress?: (view: string, rowsRead: number) => void;
}

export interface ViewSyncResult {
  view: string;
  status: 'success' | 'error' | 'skipped';
  message: string;
  rowsRead: number;
  written: number;
  stale: number;
  fullRefresh: boolean;
  since?: Timestamp;
  previousWatermark?: Timestamp;
  watermark?: Timestamp;
  seconds: number;
}


/** The SQL each selected online view's sync would run (full form); connects to nothing. */
export async function planSync(project: Project, opts: SyncOptions = {}): Promise<string[]> {
  const c = await compileProject(project);
  const now = opts.now ?? Timestamp.fromMillis(Date.now());
  const out: string[] = [];
  for (const name of selectViews(project.views, c.dag, opts.select, opts.exclude)) {
    const view = project.views.get(name)!;
    if (!view.config.online) {
      out.push(`-- ${name}: skipped (online: false)\n`);
      continue;
    }
    if (view.config.aggregate) {
      out.push(`-- ${name}: aggregate view: per entity its window state at the sync time (dialects/aggregate-online.ts); the query casts to the events table's column types, read from the warehouse when it runs, so it is not rendered here\n`);
      continue;
    }
    const compiled = c.manifest.views[name];
    const ttl = view.config.ttlSeconds;
    const plan: LatestPerEntityPlan = {
      view: name,
      table: compiled.table,
      joinKeys: view.joinKeys,
      timestamp: view.config.timestamp,
      createdTimestamp: view.config.createdTimestamp,
      features: compiled.features ?? [],
      columns: compiled.columns ?? [],
      since: ttl === undefined ? undefined : now.plusSeconds(-ttl),
      until: now,
    };
    const tsCol = c.renderer.dialect.quoteIdent(view.config.timestamp);
    const note = `incremental runs also keep ${tsCol} >= (the view's sync watermark - lookback ${view.config.lookbackSeconds}s)`;
    out.push(`-- ${name}: latest row per entity; ${note}\n${renderLatestPerEntity(plan, c.renderer.dialect)};\n`);
  }
  return out;
}

export async function syncViews(project: Project, wh: Warehouse, store: OnlineStore, log: Logger, opts: SyncOptions = {}): Promise<ViewSyncResult[]> {
  const c = await compileProject(project);
  for (const w of c.warnings) log.warn(w);
  const names = selectViews(project.views, c.dag, opts.select, opts.exclude);
  await store.ping();
  const stored = new Map((await store.getLayouts()).map((l) => [l.view, l]));
  const results: ViewSyncResult[] = [];
  for (const name of names) {
    const view = project.views.get(name)!;
    if (!view.config.online) {
      log.info(`SKIP ${name}: online is false in its config(), so it is not synced`);
      results.push({ view: name, status: 'skipped', message: 'online: false', rowsRead: 0, written: 0, stale: 0, fullRefresh: false, seconds: 0 });
      continue;
    }
    const t0 = Date.now();
    log.step(`${names.indexOf(name) + 1} of ${names.length} START ${name}`);
    try {
      const r = view.config.aggregate ? await syncAggregate(c, wh, store, log, view, stored.get(name), opts) : await syncView(c, wh, store, log, view, stored.get(name), opts);
      await store.recordSync(name, { ok: true, rows: r.written, seconds: r.seconds, at: opts.now ?? Timestamp.fromMillis(Date.now()) });
      results.push(r);
      const wm = r.watermark ? `watermark ${r.watermark.toISOString()}` : 'no rows to push';
      log.info(`OK   ${name}: ${r.rowsRead} entities read, ${r.written} written, ${r.stale} unchanged${r.fullRefresh ? ' (full)' : ''} in ${r.seconds.toFixed(2)}s; ${wm}`, {
        view: name,
        rows: r.rowsRead,
        written: r.written,
      });
    } catch (e) {
      // counted where the store still answers (fsql_sync_failures_total); a store that does not is the failure itself
      await store.recordSync(name, { ok: false }).catch(() => undefined);
      if (!(e instanceof FsqlError)) throw e;
      results.push({ view: name, status: 'error', message: e.message, rowsRead: 0, written: 0, stale: 0, fullRefresh: Boolean(opts.fullRefresh), seconds: (Date.now() - t0) / 1000 });
      log.error(`FAIL ${name}: ${e.message}`, { view: name });
    }
  }
  log.endProgress();
  return results;
}

/** An aggregate view's sync (sync-aggregate.ts) as a view's result: entities read and written, the watermark is the sync time. */
async function syncAggregate(c: Compilation, wh: Warehouse, store: OnlineStore, log: Logger, view: ViewDef, stored: ViewLayout | undefined, opts: SyncOptions): Promise<ViewSyncResult> {
  const t0 = Date.now();
  const r = await syncAggregateView(c, wh, store, log, view, stored, opts);
  log.info(`NOTE ${view.name}: ${r.rowsRead} entity states, ${r.rowsRead ? Math.round(r.stateBytes / r.rowsRead) : 0} bytes each on average`, { view: view.name });
  const { rowsRead, written, stale, fullRefresh, previousWatermark, watermark } = r;
  return { view: view.name, status: 'success', message: 'OK', rowsRead, written, stale, fullRefresh, previousWatermark, watermark, seconds: (Date.now() - t0) / 1000 };
}

async function syncView(c: Compilation, wh: Warehouse, store: OnlineStore, log: Logger, view: ViewDef, stored: ViewLayout | undefined, opts: SyncOptions): Promise<ViewSyncResult> {
  const t0 = Date.now();
  const now = opts.now ?? Timestamp.fromMillis(Date.now());
  const { relation, table } = c.manifest.views[view.name];
  const columns = await wh.describe(table);
  if (!columns) throw new FsqlError(`${view.file}: the offline table ${relation} does not exist; build it first with: fsql run --select ${view.name}`);
  const shape = layoutFor(view, columns, c.manifest.views[view.name].columns);
  const layout = shape.layout;

  const { fullRefresh, previous } = await startViewSync(store, log, layout, stored, opts.fullRefresh);
  let since = previous?.plusSeconds(-view.config.lookbackSeconds);
  if (layout.ttlSeconds !== undefined) {
    const valid = now.plusSeconds(-layout.ttlSeconds);
    if (!since || valid.micros > since.micros) since = valid;
  }
  const sql = renderLatestPerEntity(
    {
      view: view.name,
      table,
      joinKeys: shape.keyColumns,
      timestamp: shape.tsColumn,
      createdTimestamp: shape.createdColumn,
      features: shape.featureColumns,
      columns: shape.selectColumns,
      since,
      until: now,
    },
    wh.dialect,
  );

  const result: ViewSyncResult = { view: view.name, status: 'success', message: 'OK', rowsRead: 0, written: 0, stale: 0, fullRefresh, since, previousWatermark: previous, seconds: 0 };
  let newest: Timestamp | undefined;
  const inflight = new Inflight(opts.inflight ?? DEFAULT_INFLIGHT, (w) => {
    result.written += w.written;
    result.stale += w.stale;
  });
  let reader: ((batch: ColumnBatch) => ColumnRows) | undefined;
  const chunks = wh.streamColumns(sql, { chunkRows: opts.chunkRows ?? DEFAULT_CHUNK_ROWS, label: view.file })[Symbol.asyncIterator]();
  try {
    let next = chunks.next();
    for (;;) {
      const step = await next;
      if (step.done) break;
      next = chunks.next();
      next.catch(() => undefined);
      reader ??= columnRowsReader(view, shape, step.value.names);
      const rows = reader(step.value);
      const batchNewest = newestTimestamp(rows);
      if (batchNewest && (!newest || batchNewest.micros > newest.micros)) newest = batchNewest;
      result.rowsRead += rows.batch.rows;
      const read = result.rowsRead;
      // The store reads the batch before this returns; only its encoded form waits for the store.
      const written = store.writeColumns(layout, rows);
      await inflight.add(
        written.then((w) => {
          opts.onProgress?.(view.name, read);
          const seconds = (Date.now() - t0) / 1000;
          log.progress(`${view.name}: ${read} entities pushed, ${Math.round(read / Math.max(seconds, 0.001))}/s, ${seconds.toFixed(1)}s`);
          return w;
        }),
      );
    }
    await inflight.drain();
  } catch (e) {
    await inflight.settle();
    throw e;
  } finally {
    await chunks.return?.(undefined);
  }
  // Rows a store staged (SQLite merges a large sync in key order) land before the watermark moves.
  const flushed = await store.flush();
  result.written += flushed.written;
  result.stale += flushed.stale;
  // Every row up to `newest` is acknowledged: only now may the watermark move.
  if (newest) await store.setWatermark(view.name, newest);
  result.watermark = newest ?? previous;
  result.seconds = (Date.now() - t0) / 1000;
  return result;
}

interface Shape {
  layout: ViewLayout;
  keyColumns: string[];
  tsColumn: string;
  createdColumn?: string;
  selectColumns: string[];
  /** the feature columns, in layout order */
  featureColumns: string[];
}

/** The view's layout from the offline table's columns; names follow the SQL (the warehouse may fold case). */
export function layoutFor(view: ViewDef, columns: Column[], sqlColumns: string[] | null): Shape {
  const find = (name: string) => columns.find((col) => col.name.toLowerCase() === name.toLowerCase());
  const need = (name: string, what: string) => {
    const col = find(name);
    if (!col) throw new FsqlError(`${view.file}: the offline table has no ${what} column '${name}' (columns: ${columns.map((x) => x.name).join(', ')}); run fsql run --select ${view.name} again.`);
    return col;
  };
  const keys = view.joinKeys.map((k) => need(k, 'join key'));
  const ts = need(view.config.timestamp, 'timestamp');
  if (ts.type.type !== 'timestamp') throw new FsqlError(`${view.file}: timestamp column '${ts.name}' is ${typeName(ts.type)}, not a timestamp.`);
  const created = view.config.createdTimestamp ? need(view.config.createdTimestamp, 'created_timestamp') : undefined;
  const nameOf = (col: string) => sqlColumns?.find((s) => s.toLowerCase() === col.toLowerCase()) ?? col;
  const featureCols = featuresOf(view, columns.map((x) => x.name)).map((n) => find(n)!);
  if (featureCols.length === 0) throw new FsqlError(`${view.file}: the offline table has no feature columns besides its keys and timestamps.`);
  const layout: ViewLayout = {
    view: view.name,
    joinKeys: view.joinKeys.map((k, i) => ({ name: k, type: keys[i].type })),
    features: featureCols.map((col) => ({ name: nameOf(col.name), type: col.type })),
    ...(view.config.ttlSeconds !== undefined ? { ttlSeconds: view.config.ttlSeconds } : {}),
  };
  return {
    layout,
    keyColumns: keys.map((k) => k.name),
    tsColumn: ts.name,
    createdColumn: created?.name,
    selectColumns: [...keys, ts, ...(created ? [created] : []), ...featureCols].map((x) => x.name),
    featureColumns: featureCols.map((col) => col.name),
  };
}

/** Finds the view's columns in a streamed batch by name (exactly, else ignoring case); resolved once, from the first batch's names. */
function columnRowsReader(view: ViewDef, shape: Shape, names: string[]): (batch: ColumnBatch) => ColumnRows {
  const index = (column: string) => {
    const exact = names.indexOf(column);
    const i = exact >= 0 ? exact : names.findIndex((n) => n.toLowerCase() === column.toLowerCase());
    if (i < 0) throw new FsqlError(`${view.file}: the sync query returned no column '${column}' (columns: ${names.join(', ')}); run fsql run --select ${view.name} again.`);
    return i;
  };
  const keys = shape.keyColumns.map(index);
  const ts = index(shape.tsColumn);
  const created = shape.createdColumn ? index(shape.createdColumn) : undefined;
  const features = shape.featureColumns.map(index);
  const tsWhat = `${view.file}: timestamp '${view.config.timestamp}'`;
  const createdWhat = `${view.file}: created_timestamp '${view.config.createdTimestamp}'`;
  return (batch) => ({ batch, keys, ts, created, features, tsWhat, createdWhat });
}
