/**
 * The embedded online store: one SQLite file in WAL mode, so `fsql sync` (or a push) writes while
 * `fsql serve` reads from another process. The monotonic rule is one conditional upsert
 * (ON CONFLICT ... DO UPDATE ... WHERE newer), atomic per row whoever races. Expired rows are
 * deleted by the store (after every write and on a timer); until then reads return them and
 * online/vector.ts decides, at the request's time, that they are past their TTL.
 *
 * A large sync is staged: past STAGE_AFTER rows of a view, writeColumns appends its rows to a
 * temporary table of this connection, and flush() (or setWatermark, or a read) upserts them all in
 * one statement in key order. Rows arrive in the warehouse's order, which is random against the
 * primary key: upserted batch by batch, each row dirtied a page of its own, and once the table
 * outgrew the page cache every row cost a page read and a page written to the WAL (2.5M entities:
 * 12k rows/s). In key order each page is written once per sync (114k rows/s; see CONTEXT.md).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { FsqlError, OnlineStoreError } from '../errors.js';
import { Timestamp } from '../values.js';
import { AsciiWriter } from './ascii-writer.js';
import { EncodedRow, encodeStored, expiresAtMicros, fingerprintOf, NO_CREATED, storedTimes } from './codec.js';
import { columnSource } from './column-codec.js';
import { entityId, entityPrefix, type Namespace } from './keys.js';
import { rowSource, type RowSource } from './row-source.js';
import type { ApiKeyRecord, ColumnRows, OnlineRow, OnlineStore, PushedEntry, Replacement, StoredRow, SyncRecord, SyncStats, ViewLayout, WriteResult } from './store.js';

export interface SqliteStoreOptions {
  /** how often expired rows are deleted while the store is open (default 60 s; 0 turns the timer off) */
  purgeIntervalMs?: number;
  /** how long a write waits for another process's write lock (default 30 s) */
  busyTimeoutMs?: number;
  /** rows of a view's sync upserted directly before the rest is staged (default STAGE_AFTER) */
  stageAfterRows?: number;
}

/** Rows per transaction: long enough to be fast, short enough not to starve another writer. */
const ROWS_PER_TRANSACTION = 5000;

/** Rows of a view upserted directly before its further writeColumns are staged (below this, direct upserts stay in the page cache). */
const STAGE_AFTER = 100_000;

/** Finds expired rows for purge(); random against the key, so a large merge rebuilds it instead (see merge()). */
const EXPIRES_INDEX = 'create index if not exists fsql_rows_expires_at on fsql_rows (expires_at) where expires_at is not null';

const SCHEMA = `
create table if not exists fsql_namespaces (
  id integer primary key,
  project text not null,
  target text not null,
  unique (project, target)
);
create table if not exists fsql_rows (
  ns integer not null,
  view text not null,
  entity text not null,
  ts integer not null,
  created integer not null,
  features text not null,
  expires_at integer,
  primary key (ns, view, entity)
) without rowid;
${EXPIRES_INDEX};
create table if not exists fsql_layouts (ns integer not null, view text not null, layout text not null, primary key (ns, view)) without rowid;
create table if not exists fsql_watermarks (ns integer not null, view text not null, ts integer not null, primary key (ns, view)) without rowid;
create table if not exists fsql_sync_stats (ns integer not null, view text not null, runs integer not null, rows integer not null, failures integer not null default 0, last_success real, duration real, primary key (ns, view)) without rowid;
create table if not exists fsql_api_keys (ns integer not null, hash text not null, id text not null, record text not null, primary key (ns, hash)) without rowid;
create table if not exists fsql_pushed (ns integer not null, view text not null, entity text not null, fingerprint text not null, events text not null, keep_until integer not null, primary key (ns, view, entity)) without rowid;
`;

/** A store written by an fsql from before failures and the last success were recorded: add those columns. */
function addSyncStatsColumns(db: Database.Database): void {
  const have = new Set((db.prepare('select name from pragma_table_info(?)').pluck().all('fsql_sync_stats') as string[]));
  for (const [name, type] of [['failures', 'integer not null default 0'], ['last_success', 'real'], ['duration', 'real']]) {
    if (!have.has(name)) db.exec(`alter table fsql_sync_stats add column ${name} ${type}`);
  }
}

/** Rows per upsert statement: one statement per row cost as much as SQLite's own work. */
const UPSERT_ROWS = 100;
const UPSERT_PARAMS = 7;

const STAGED = `create temp table if not exists fsql_staged (
  ns integer not null, view text not null, entity text not null, ts integer not null, created integer not null, features text not null, expires_at integer
)`;

const values = (rows: number) => `values ${Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}`;

/** A row replaces the stored one only when newer (two in one statement are applied in order). */
const NEWER = `
on conflict (ns, view, entity) do update set
  ts = excluded.ts, created = excluded.created, features = excluded.features, expires_at = excluded.expires_at
where excluded.ts > fsql_rows.ts
   or (excluded.ts = fsql_rows.ts and (excluded.created > fsql_rows.created
       or (excluded.created = fsql_rows.created and excluded.features <> fsql_rows.features)))`;

const COLUMNS = 'fsql_rows (ns, view, entity, ts, created, features, expires_at)';
const upsert = (rows: number) => `insert into ${COLUMNS} ${values(rows)} ${NEWER}`;
/** In key order, each entity's newest row first (so the others are stale, and each entity is written once). `where true` tells SQLite's parser that ON CONFLICT belongs to the insert. */
const MERGE = `insert into ${COLUMNS} select ns, view, entity, ts, created, features, expires_at from temp.fsql_staged where true order by ns, view, entity, ts desc, created desc ${NEWER}`;

/**
 * An aggregate view's pushed events joining an entity's log (OnlineStore.appendPushed), with its
 * keep-until time in microseconds. A log written with another layout (fingerprint), or past its
 * time, is replaced: its events cannot be read, or count no more. (In SET, SQLite reads the old row.)
 */
const APPEND_PUSHED = `
insert into fsql_pushed (ns, view, entity, fingerprint, events, keep_until) values (@ns, @view, @entity, @fingerprint, @events, @keep)
on conflict (ns, view, entity) do update set
  events = case when fingerprint = excluded.fingerprint and keep_until >= @now then events || excluded.events else excluded.events end,
  keep_until = case when fingerprint = excluded.fingerprint and keep_until >= @now then max(keep_until, excluded.keep_until) else excluded.keep_until end,
  fingerprint = excluded.fingerprint
returning length(events)`;

type Stmt = Database.Statement<unknown[], unknown>;

export class SqliteStore implements OnlineStore {
  readonly location: string;
  private readonly stmts: Record<'upsert' | 'upsertMany' | 'stage' | 'stageMany' | 'unstage' | 'read' | 'insertAbsent' | 'replace' | 'purge' | 'putOlder' | 'appendPushed' | 'readPushed' | 'cutPushed' | 'dropPushed' | 'purgePushed' | 'putLayout' | 'layouts' | 'getWatermark' | 'setWatermark' | 'recordSync' | 'recordFailure' | 'syncStats' | 'putKey' | 'listKeys' | 'findKey', Stmt>;
  private readonly timer?: NodeJS.Timeout;
  private readonly stageAfter: number;

  private constructor(
    private readonly db: Database.Database,
    private readonly ns: number,
    readonly path: string,
    opts: SqliteStoreOptions,
  ) {
    this.location = `sqlite:${path}`;
    this.stageAfter = opts.stageAfterRows ?? STAGE_AFTER;
    const p = (sql: string) => db.prepare(sql) as Stmt;
    this.stmts = {
      upsert: p(upsert(1)),
      upsertMany: p(upsert(UPSERT_ROWS)),
      stage: p(`insert into temp.fsql_staged ${values(1)}`),
      stageMany: p(`insert into temp.fsql_staged ${values(UPSERT_ROWS)}`),
      unstage: p('delete from temp.fsql_staged'),
      read: p('select ts, created, features from fsql_rows where ns = ? and view = ? and entity = ?').safeIntegers(true),
      insertAbsent: p('insert into fsql_rows (ns, view, entity, ts, created, features, expires_at) values (?, ?, ?, ?, ?, ?, ?) on conflict do nothing'),
      replace: p('update fsql_rows set ts = ?, created = ?, features = ?, expires_at = ? where ns = ? and view = ? and entity = ? and ts = ? and created = ? and features = ?'),
      purge: p('delete from fsql_rows where expires_at is not null and expires_at < ?'),
      // a row where none is stored or the stored one is older (the monotonic rule without the equal-time case: appendPushed's empty state)
      putOlder: p(`insert into ${COLUMNS} ${values(1)} on conflict (ns, view, entity) do update set ts = excluded.ts, created = excluded.created, features = excluded.features, expires_at = excluded.expires_at where excluded.ts > fsql_rows.ts or (excluded.ts = fsql_rows.ts and excluded.created > fsql_rows.created)`),
      appendPushed: p(APPEND_PUSHED).pluck(),
      readPushed: p('select events from fsql_pushed where ns = ? and view = ? and entity = ? and fingerprint = ? and keep_until >= ?').pluck(),
      cutPushed: p("update fsql_pushed set events = ? || substr(events, ? + 1) where ns = ? and view = ? and entity = ? returning events = ''").pluck(),
      dropPushed: p('delete from fsql_pushed where ns = ? and view = ? and entity = ?'),
      purgePushed: p('delete from fsql_pushed where keep_until < ?'),
      putLayout: p('insert into fsql_layouts (ns, view, layout) values (?, ?, ?) on conflict (ns, view) do update set layout = excluded.layout'),
      layouts: p('select layout from fsql_layouts where ns = ? order by view').pluck(),
      getWatermark: p('select ts from fsql_watermarks where ns = ? and view = ?').pluck().safeIntegers(true),
      setWatermark: p('insert into fsql_watermarks (ns, view, ts) values (?, ?, ?) on conflict (ns, view) do update set ts = excluded.ts'),
      recordSync: p('insert into fsql_sync_stats (ns, view, runs, rows, last_success, duration) values (?, ?, 1, ?, ?, ?) on conflict (ns, view) do update set runs = runs + 1, rows = rows + excluded.rows, last_success = excluded.last_success, duration = excluded.duration'),
      recordFailure: p('insert into fsql_sync_stats (ns, view, runs, rows, failures) values (?, ?, 0, 0, 1) on conflict (ns, view) do update set failures = failures + 1'),
      syncStats: p('select view, runs, rows, failures, last_success as lastSuccess, duration from fsql_sync_stats where ns = ? order by view'),
      putKey: p('insert into fsql_api_keys (ns, hash, id, record) values (?, ?, ?, ?) on conflict (ns, hash) do update set id = excluded.id, record = excluded.record'),
      listKeys: p('select record from fsql_api_keys where ns = ?').pluck(),
      findKey: p('select record from fsql_api_keys where ns = ? and hash = ?').pluck(),
    };
    const every = opts.purgeIntervalMs ?? 60_000;
    if (every > 0) {
      this.timer = setInterval(() => {
        try {
          this.purge();
        } catch {
          // another process holds the write lock; the next write or tick purges
        }
      }, every);
      this.timer.unref();
    }
  }

  static open(path: string, namespace: Namespace, opts: SqliteStoreOptions = {}): SqliteStore {
    try {
      mkdirSync(dirname(path), { recursive: true });
      const db = new Database(path, { timeout: opts.busyTimeoutMs ?? 30_000 });
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      // 64 MB of page cache: a sync upserts entities in hash order, all over the primary key's B-tree.
      db.pragma('cache_size = -65536');
      // staged rows and the merge's sort go to a temporary file, not memory
      db.pragma('temp_store = FILE');
      db.transaction(() => {
        db.exec(SCHEMA);
        addSyncStatsColumns(db);
        db.prepare('insert or ignore into fsql_namespaces (project, target) values (?, ?)').run(namespace.project, namespace.target);
      }).immediate();
      db.exec(STAGED);
      const ns = db.prepare('select id from fsql_namespaces where project = ? and target = ?').pluck().get(namespace.project, namespace.target) as number;
      const store = new SqliteStore(db, ns, path, opts);
      store.purge();
      return store;
    } catch (e) {
      if (e instanceof FsqlError) throw e;
      throw new OnlineStoreError(`cannot open the SQLite online store ${path}: ${(e as Error).message}. Check that the folder is writable (online_store: path in profiles.yml).`);
    }
  }

  async ping(): Promise<void> {
    this.guard(() => this.db.prepare('select 1').get());
  }

  async putLayout(layout: ViewLayout): Promise<void> {
    this.guard(() => this.stmts.putLayout.run(this.ns, layout.view, JSON.stringify(layout)));
  }

  async getLayouts(): Promise<ViewLayout[]> {
    return this.guard(() => (this.stmts.layouts.all(this.ns) as string[]).map((text) => JSON.parse(text) as ViewLayout));
  }

  async write(layout: ViewLayout, rows: OnlineRow[]): Promise<WriteResult> {
    return this.writeSource(layout, rowSource(layout, rows), false);
  }

  /** A sync's batch: upserted at once while the view's sync is small, else staged for flush(). */
  async writeColumns(layout: ViewLayout, rows: ColumnRows): Promise<WriteResult> {
    const direct = this.directRows.get(layout.view) ?? 0;
    const stage = direct >= this.stageAfter;
    if (!stage) this.directRows.set(layout.view, direct + rows.batch.rows);
    return this.writeSource(layout, columnSource(layout, rows), stage);
  }

  /** Upserts the staged rows in key order, in one transaction; they count as written or stale now. */
  async flush(): Promise<WriteResult> {
    const result = this.merge();
    const unreported = this.unreported;
    this.unreported = { written: 0, stale: 0 };
    return { written: result.written + unreported.written, stale: result.stale + unreported.stale };
  }

  /** rows staged and not yet merged */
  private staged = 0;
  private stagedTtl = false;
  /** rows of each view's sync upserted directly (see STAGE_AFTER) */
  private readonly directRows = new Map<string, number>();
  /** what merges that flush() did not ask for decided, for flush() or recordSync to report */
  private unreported: WriteResult = { written: 0, stale: 0 };

  private merge(): WriteResult {
    if (this.staged === 0) return { written: 0, stale: 0 };
    return this.guard(() => {
      // Each merged row also goes into the expiry index, at a random place: past a tenth of the
      // table, building the index again (one sort) costs less than those inserts (measured at 2.5M
      // rows: merge 18.9 s with the index, 10.1 s dropping and rebuilding it). Rows are about 250 bytes.
      const tableRows = (this.db.pragma('page_count', { simple: true }) as number) * (this.db.pragma('page_size', { simple: true }) as number) / 250;
      const rebuild = this.staged * 10 >= tableRows;
      const written = this.db
        .transaction(() => {
          if (rebuild) this.db.exec('drop index if exists fsql_rows_expires_at');
          const n = this.db.prepare(MERGE).run().changes;
          if (rebuild) this.db.exec(EXPIRES_INDEX);
          this.stmts.unstage.run();
          return n;
        })
        .immediate();
      const result = { written, stale: this.staged - written };
      this.staged = 0;
      this.directRows.clear();
      if (this.stagedTtl) this.purge();
      this.stagedTtl = false;
      return result;
    });
  }

  /** A merge before a watermark, a read or a close that flush() did not ask for: its counts wait for flush() or recordSync. */
  private mergeUnasked(): void {
    const r = this.merge();
    this.unreported.written += r.written;
    this.unreported.stale += r.stale;
  }

  /**
   * Upserts (or stages) in transactions of ROWS_PER_TRANSACTION rows, UPSERT_ROWS rows per
   * statement. Each row is encoded once, as Redis stores it (sort key, then features): its times
   * come back out of the sort key.
   */
  private writeSource(layout: ViewLayout, src: RowSource, stage: boolean): WriteResult {
    return this.guard(() => {
      const result: WriteResult = { written: 0, stale: 0 };
      const [many, one] = stage ? [this.stmts.stageMany, this.stmts.stage] : [this.stmts.upsertMany, this.stmts.upsert];
      const prefix = entityPrefix(layout);
      const w = new AsciiWriter();
      const params: unknown[] = [];
      const batch = this.db.transaction((from: number, to: number) => {
        for (let i = from; i < to; i++) {
          if (!src.hasKey(i)) continue;
          w.at = 0;
          src.writeEntity(w, i);
          const entity = prefix + w.toString();
          w.at = 0;
          src.writeStored(w, i);
          const stored = w.toString();
          const [ts, created] = storedTimes(stored);
          params.push(this.ns, layout.view, entity, ts, created, stored.slice(32), expiresAtMicros(layout, ts) ?? null);
          if (params.length === UPSERT_ROWS * UPSERT_PARAMS) result.written += many.run(params.splice(0)).changes;
        }
        for (let p = 0; p < params.length; p += UPSERT_PARAMS) result.written += one.run(params.slice(p, p + UPSERT_PARAMS)).changes;
        params.length = 0;
      });
      for (let from = 0; from < src.length; from += ROWS_PER_TRANSACTION) batch.immediate(from, Math.min(src.length, from + ROWS_PER_TRANSACTION));
      if (stage) {
        // decided by the merge
        this.staged += result.written;
        this.stagedTtl ||= layout.ttlSeconds !== undefined;
        return { written: 0, stale: 0 };
      }
      result.stale = src.length - result.written;
      if (layout.ttlSeconds !== undefined) this.purge();
      return result;
    });
  }

  async replace(layout: ViewLayout, changes: Replacement[]): Promise<boolean[]> {
    this.mergeUnasked();
    return this.guard(() =>
      this.db
        .transaction(() =>
          changes.map(({ row, expected, folded }) => {
            const entity = entityId(layout, row.key);
            if (entity === undefined) return false;
            const stored = encodeStored(layout, row);
            const [ts, created] = storedTimes(stored);
            const now = [ts, created, stored.slice(32), expiresAtMicros(layout, ts) ?? null];
            const where = [this.ns, layout.view, entity];
            const was = expected && [expected.ts.micros, expected.created?.micros ?? NO_CREATED, expected.text.slice(expected.at)];
            const written = (was ? this.stmts.replace.run(...now, ...where, ...was) : this.stmts.insertAbsent.run(...where, ...now)).changes === 1;
            // the log's folded start goes with the write, `kept` in its place; a log left empty goes altogether
            if (written && folded && this.stmts.cutPushed.get(folded.kept, folded.length, ...where)) this.stmts.dropPushed.run(...where);
            return written;
          }),
        )
        .immediate(),
    );
  }

  /** One transaction: per entity the empty state where it is newer, then its log (returning its length). */
  async appendPushed(layout: ViewLayout, empty: OnlineRow, entries: PushedEntry[]): Promise<number[]> {
    this.mergeUnasked();
    const stored = encodeStored(layout, empty);
    const [ts, created] = storedTimes(stored);
    const fingerprint = fingerprintOf(layout);
    const now = Timestamp.fromMillis(Date.now()).micros;
    return this.guard(() =>
      this.db
        .transaction(() =>
          entries.map((e) => {
            const entity = entityId(layout, e.key);
            if (entity === undefined) throw new Error(`appendPushed: an entity of '${layout.view}' with a NULL join key`);
            this.stmts.putOlder.run(this.ns, layout.view, entity, ts, created, stored.slice(32), expiresAtMicros(layout, ts) ?? null);
            const keep = BigInt(e.keepUntil) * 1000n;
            return this.stmts.appendPushed.get({ ns: this.ns, view: layout.view, entity, fingerprint, events: e.text, keep, now }) as number;
          }),
        )
        .immediate(),
    );
  }

  async read(requests: { layout: ViewLayout; key: unknown[] }[]): Promise<(StoredRow | undefined)[]> {
    this.mergeUnasked();
    const now = Timestamp.fromMillis(Date.now()).micros;
    return this.guard(() => {
      const readAll = this.db.transaction(() =>
        requests.map(({ layout, key }) => {
          const entity = entityId(layout, key);
          if (entity === undefined) return undefined;
          const r = this.stmts.read.get(this.ns, layout.view, entity) as { ts: bigint; created: bigint; features: string } | undefined;
          if (!r) return undefined;
          // an aggregate view's row comes with its entity's pushed events
          const pushed = layout.aggregate ? (this.stmts.readPushed.get(this.ns, layout.view, entity, fingerprintOf(layout), now) as string | undefined) : undefined;
          return new EncodedRow(layout, new Timestamp(r.ts), r.created === NO_CREATED ? undefined : new Timestamp(r.created), r.features, 0, pushed || undefined);
        }),
      );
      return readAll.deferred();
    });
  }

  async getWatermark(view: string): Promise<Timestamp | undefined> {
    return this.guard(() => {
      const micros = this.stmts.getWatermark.get(this.ns, view) as bigint | undefined;
      return micros === undefined ? undefined : new Timestamp(micros);
    });
  }

  /** Staged rows are merged first: a watermark may only cover rows that are in the store. */
  async setWatermark(view: string, ts: Timestamp): Promise<void> {
    this.mergeUnasked();
    this.guard(() => this.stmts.setWatermark.run(this.ns, view, ts.micros));
  }

  /** Counts the rows merges wrote too, whether or not the caller's count has them (it has them when it called flush()). */
  async recordSync(view: string, record: SyncRecord): Promise<void> {
    if (!record.ok) return this.guard(() => void this.stmts.recordFailure.run(this.ns, view));
    const merged = this.unreported.written;
    this.unreported = { written: 0, stale: 0 };
    this.guard(() => this.stmts.recordSync.run(this.ns, view, record.rows + merged, record.at.millis / 1000, record.seconds));
  }

  async getSyncStats(): Promise<SyncStats[]> {
    const rows = this.guard(() => this.stmts.syncStats.all(this.ns) as (SyncStats & { lastSuccess: number | null; duration: number | null })[]);
    return rows.map(({ lastSuccess, duration, ...s }) => ({ ...s, ...(lastSuccess === null ? {} : { lastSuccess }), ...(duration === null ? {} : { duration }) }));
  }

  async dropView(view: string): Promise<void> {
    this.mergeUnasked();
    this.guard(() =>
      this.db
        .transaction(() => {
          for (const table of ['fsql_rows', 'fsql_pushed', 'fsql_layouts', 'fsql_watermarks']) this.db.prepare(`delete from ${table} where ns = ? and view = ?`).run(this.ns, view);
        })
        .immediate(),
    );
  }

  async putApiKey(record: ApiKeyRecord): Promise<void> {
    this.guard(() => this.stmts.putKey.run(this.ns, record.hash, record.id, JSON.stringify(record)));
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    return this.guard(() =>
      (this.stmts.listKeys.all(this.ns) as string[]).map((t) => JSON.parse(t) as ApiKeyRecord).sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id)),
    );
  }

  async findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    return this.guard(() => {
      const t = this.stmts.findKey.get(this.ns, hash) as string | undefined;
      return t === undefined ? undefined : (JSON.parse(t) as ApiKeyRecord);
    });
  }

  /** Deletes every expired row and pushed-event log (of every namespace in the file); returns how many rows. */
  purge(): number {
    const now = Timestamp.fromMillis(Date.now()).micros;
    this.stmts.purgePushed.run(now);
    return this.stmts.purge.run(now).changes;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.db.open) this.db.close();
  }

  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof FsqlError) throw e;
      if (!(e instanceof Error) || !('code' in e) || !String((e as { code: unknown }).code).startsWith('SQLITE')) throw e;
      throw new OnlineStoreError(`SQLite online store ${this.path}: ${e.message}`);
    }
  }
}
