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
import type { RelationName } from '../dialects/dialect.js';
import { renderLatestPerEntity } from '../dialects/latest-per-entity.js';
import { FsqlError } from '../errors.js';
import type { Logger } from '../log.js';
import type { LatestPerEntityPlan } from '../plans/latest-per-entity.js';
import type { Project, Target, ViewDef } from '../project/types.js';
import { Timestamp, typeName, type Column, type Row } from '../values.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { coerceValue, sameLayout } from './codec.js';
import type { OnlineRow, OnlineStore, ViewLayout, WriteResult } from './store.js';

export interface SyncOptions {
  select?: string[];
  exclude?: string[];
  /** drop each view's online rows, layout and watermark, and push everything again */
  fullRefresh?: boolean;
  /** the sync's clock (default: now); rows dated after it wait for a later run */
  now?: Timestamp;
  /** rows per warehouse chunk and per store write batch */
  chunkRows?: number;
  /** write batches in flight at once */
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

const DEFAULT_CHUNK_ROWS = 5000;
const DEFAULT_INFLIGHT = 4;

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
    const compiled = c.manifest.views[name];
    const ttl = view.config.ttlSeconds;
    const plan: LatestPerEntityPlan = {
      view: name,
      relation: compiled.relation,
      joinKeys: view.joinKeys,
      timestamp: view.config.timestamp,
      createdTimestamp: view.config.createdTimestamp,
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
    try {
      const r = await syncView(c, wh, store, log, view, stored.get(name), opts);
      results.push(r);
      const wm = r.watermark ? `watermark ${r.watermark.toISOString()}` : 'no rows to push';
      log.info(`OK   ${name}: ${r.rowsRead} entities read, ${r.written} written, ${r.stale} unchanged${r.fullRefresh ? ' (full)' : ''} in ${r.seconds.toFixed(2)}s; ${wm}`, {
        view: name,
        rows: r.rowsRead,
        written: r.written,
      });
    } catch (e) {
      if (!(e instanceof FsqlError)) throw e;
      results.push({ view: name, status: 'error', message: e.message, rowsRead: 0, written: 0, stale: 0, fullRefresh: Boolean(opts.fullRefresh), seconds: (Date.now() - t0) / 1000 });
      log.error(`FAIL ${name}: ${e.message}`, { view: name });
    }
  }
  log.endProgress();
  return results;
}

async function syncView(c: Compilation, wh: Warehouse, store: OnlineStore, log: Logger, view: ViewDef, stored: ViewLayout | undefined, opts: SyncOptions): Promise<ViewSyncResult> {
  const t0 = Date.now();
  const now = opts.now ?? Timestamp.fromMillis(Date.now());
  const relation = c.manifest.views[view.name].relation;
  const columns = await wh.describe(offlineRelation(wh.target, view.name));
  if (!columns) throw new FsqlError(`${view.file}: the offline table ${relation} does not exist; build it first with: fsql run --select ${view.name}`);
  const shape = layoutFor(view, columns, c.manifest.views[view.name].columns);
  const layout = shape.layout;

  let fullRefresh = Boolean(opts.fullRefresh);
  if (stored && !sameLayout(stored, layout)) {
    log.info(`NOTE ${view.name}: its columns, types or TTL changed since the last sync; pushing it again from scratch`);
    fullRefresh = true;
  }
  if (fullRefresh) await store.dropView(view.name);
  if (fullRefresh || !stored) await store.putLayout(layout);

  const previous = fullRefresh ? undefined : await store.getWatermark(view.name);
  let since = previous?.plusSeconds(-view.config.lookbackSeconds);
  if (layout.ttlSeconds !== undefined) {
    const valid = now.plusSeconds(-layout.ttlSeconds);
    if (!since || valid.micros > since.micros) since = valid;
  }
  const sql = renderLatestPerEntity(
    {
      view: view.name,
      relation,
      joinKeys: shape.keyColumns,
      timestamp: shape.tsColumn,
      createdTimestamp: shape.createdColumn,
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
  let toRow: ((r: Row) => OnlineRow) | undefined;
  const chunks = wh.stream(sql, { chunkRows: opts.chunkRows ?? DEFAULT_CHUNK_ROWS, label: view.file })[Symbol.asyncIterator]();
  try {
    let next = chunks.next();
    for (;;) {
      const step = await next;
      if (step.done) break;
      next = chunks.next();
      next.catch(() => undefined);
      let chunk: Row[] | undefined = step.value;
      toRow ??= rowReader(view, layout, shape, chunk[0]);
      let rows: OnlineRow[] | undefined = new Array<OnlineRow>(chunk.length);
      for (let i = 0; i < chunk.length; i++) {
        const row = toRow(chunk[i]);
        if (!newest || row.ts.micros > newest.micros) newest = row.ts;
        rows[i] = row;
      }
      result.rowsRead += rows.length;
      const read = result.rowsRead;
      const written = store.write(layout, rows);
      // Drop this chunk's rows before waiting: the store keeps only their encoded form in flight.
      chunk = rows = undefined;
      await inflight.add(
        written.then((w) => {
          opts.onProgress?.(view.name, read);
          log.progress(`${view.name}: ${read} entities pushed`);
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
  // Every row up to `newest` is acknowledged: only now may the watermark move.
  if (newest) await store.setWatermark(view.name, newest);
  await store.recordSync(view.name, result.written);
  result.watermark = newest ?? previous;
  result.seconds = (Date.now() - t0) / 1000;
  return result;
}

export function offlineRelation(target: Target, view: string): RelationName {
  return { database: target.type === 'duckdb' ? undefined : target.database, schema: target.schema, name: view };
}

interface Shape {
  layout: ViewLayout;
  keyColumns: string[];
  tsColumn: string;
  createdColumn?: string;
  selectColumns: string[];
  /** warehouse column name -> layout feature name, where they differ */
  featureColumns: { column: string; name: string }[];
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
    featureColumns: featureCols.map((col) => ({ column: col.name, name: nameOf(col.name) })),
  };
}

/** Turns a streamed row into an OnlineRow; property names are resolved once, from the first row. */
function rowReader(view: ViewDef, layout: ViewLayout, shape: Shape, sample: Row): (r: Row) => OnlineRow {
  const props = Object.keys(sample);
  const prop = (column: string) => props.find((p) => p === column) ?? props.find((p) => p.toLowerCase() === column.toLowerCase()) ?? column;
  const keyProps = shape.keyColumns.map(prop);
  const tsProp = prop(shape.tsColumn);
  const createdProp = shape.createdColumn ? prop(shape.createdColumn) : undefined;
  const renames = shape.featureColumns.map((f) => ({ from: prop(f.column), to: f.name })).filter((f) => f.from !== f.to);
  const tsWhat = `${view.file}: timestamp '${view.config.timestamp}'`;
  const createdWhat = `${view.file}: created_timestamp '${view.config.createdTimestamp}'`;
  const asTs = (v: unknown, what: string) => (v instanceof Timestamp ? v : (coerceValue({ type: 'timestamp' }, v, what) as Timestamp | null));
  return (r) => {
    const ts = asTs(r[tsProp], tsWhat);
    if (!ts) throw new FsqlError(`${tsWhat} is NULL in a row the sync query returned`);
    const created = createdProp ? asTs(r[createdProp], createdWhat) ?? undefined : undefined;
    let values = r;
    if (renames.length > 0) {
      values = { ...r };
      for (const { from, to } of renames) values[to] = r[from];
    }
    return { key: keyProps.map((p) => r[p]), ts, created, values };
  };
}

/** Keeps at most `limit` writes in flight; the first failure is rethrown once the rest have settled. */
class Inflight {
  private readonly pending: Promise<WriteResult>[] = [];

  constructor(
    private readonly limit: number,
    private readonly done: (w: WriteResult) => void,
  ) {}

  async add(p: Promise<WriteResult>): Promise<void> {
    p.catch(() => undefined);
    this.pending.push(p);
    if (this.pending.length >= this.limit) this.done(await this.pending.shift()!);
  }

  async drain(): Promise<void> {
    while (this.pending.length > 0) this.done(await this.pending.shift()!);
  }

  async settle(): Promise<void> {
    await Promise.allSettled(this.pending.splice(0));
  }
}
