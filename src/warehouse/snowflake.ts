/**
 * The Snowflake adapter, on snowflake-sdk. One Snowflake session per concurrent caller (a
 * transaction belongs to a session), kept for the whole command; each session runs in UTC.
 * Results are streamed chunk by chunk (statement.streamRows); files are loaded with PUT to a
 * temporary stage and COPY INTO. See snowflake-options.ts for the profile keys and
 * snowflake-types.ts for the type mapping.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import type { Connection, ConnectionOptions, RowStatement } from 'snowflake-sdk';
import { WarehouseError } from '../errors.js';
import type { RelationName } from '../plans/relation.js';
import { dialectFor } from '../dialects/index.js';
import { retrying, type RetriesExhausted, type RetryPolicy } from './retry.js';
import type { Target } from '../project/types.js';
import { batchesFromRows, type ColumnBatch } from '../column-batch.js';
import type { Column, Row } from '../values.js';
import { ConnectTimeout, isDatabaseError, isTransient, toWarehouseError } from './snowflake-errors.js';
import { snowflakeSettings, type SnowflakeSettings } from './snowflake-options.js';
import { CONTEXT_QUERY, createSchemaSql, describeSql, explainSql, loadFileSql, SESSION_SETUP } from './snowflake-sql.js';
import { commonType, converterFor, fromSnowflakeName } from './snowflake-types.js';
import type { ExecuteOptions, Validation, Warehouse } from './warehouse.js';

type Sdk = typeof import('snowflake-sdk');

/** For tests and embedding: nothing a profile sets. */
export interface SnowflakeHooks {
  /** first wait between attempts, doubled each time (default 1000 ms) */
  retryBaseMs?: number;
  /** opens the SSO page for authenticator: externalbrowser (default: the system browser) */
  openBrowser?: (url: string) => void;
  /** snowflake-sdk options laid over those the profile gives */
  sdkOptions?: Partial<ConnectionOptions>;
}

let sdk: Promise<Sdk> | undefined;

/** Loaded on first use, so DuckDB users never load the SDK (and its cloud-storage clients). */
function loadSdk(): Promise<Sdk> {
  sdk ??= (async () => {
    // the AWS client inside the SDK (used for PUT) warns about Node versions it will drop next year
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    const mod = (await import('snowflake-sdk')) as Sdk & { default?: Sdk };
    const s = mod.default ?? mod;
    // the SDK's own log lines never reach the terminal, so neither can anything they quote
    s.configure({ logLevel: 'OFF' });
    return s;
  })();
  return sdk;
}

export class SnowflakeWarehouse implements Warehouse {
  readonly dialect = dialectFor('snowflake');
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  /** sessions being logged out; close() waits for them */
  private readonly logouts = new Set<Promise<void>>();
  private closed = false;

  private constructor(
    readonly target: Target,
    private readonly settings: SnowflakeSettings,
    private readonly snowflake: Sdk,
    private readonly hooks: SnowflakeHooks,
  ) {}

  /** Logs in (retrying transient failures), sets the session up and checks database, schema and warehouse. */
  static async open(target: Target, projectDir: string, hooks: SnowflakeHooks = {}): Promise<SnowflakeWarehouse> {
    const settings = snowflakeSettings(target, projectDir);
    const wh = new SnowflakeWarehouse(target, settings, await loadSdk(), hooks);
    const conn = await wh.acquire();
    try {
      await wh.checkContext(conn);
    } catch (e) {
      await wh.discard(conn);
      throw toWarehouseError(e, wh.errorContext({ sql: CONTEXT_QUERY }));
    }
    wh.release(conn);
    return wh;
  }

  async execute(statements: string | string[], opts: ExecuteOptions = {}): Promise<void> {
    const list = typeof statements === 'string' ? [statements] : statements;
    if (!opts.atomic) {
      for (const sql of list) await this.withSession((conn) => this.run(conn, sql), opts, sql);
      return;
    }
    await this.withSession(async (conn) => {
      await this.run(conn, 'begin transaction');
      try {
        for (const sql of list) await this.run(conn, sql);
        await this.run(conn, 'commit');
      } catch (e) {
        await this.run(conn, 'rollback').catch(() => undefined);
        throw e;
      }
    }, opts, list[0]);
  }

  async query(sql: string, opts: ExecuteOptions = {}): Promise<Row[]> {
    const rows: Row[] = [];
    for await (const chunk of this.stream(sql, opts)) rows.push(...chunk);
    return rows;
  }

  streamColumns(sql: string, opts: ExecuteOptions & { chunkRows?: number } = {}): AsyncIterable<ColumnBatch> {
    return batchesFromRows(this.stream(sql, opts));
  }

  async *stream(sql: string, opts: ExecuteOptions & { chunkRows?: number } = {}): AsyncIterable<Row[]> {
    const want = opts.chunkRows ?? 2048;
    const { conn, stmt } = await this.retrying(async () => {
      const c = await this.acquire();
      try {
        return { conn: c, stmt: await this.start(c, sql, true) };
      } catch (e) {
        await this.releaseAfterError(c, e);
        throw e;
      }
    }, { ...opts, sql });
    let broken: unknown;
    const rows = stmt.streamRows();
    try {
      const columns = stmt.getColumns() ?? [];
      const names = columns.map((c) => fromSnowflakeName(c.getName()));
      const convert = columns.map((c) => converterFor(c.getType(), c.getScale()));
      let batch: Row[] = [];
      try {
        for await (const raw of rows as AsyncIterable<unknown[]>) {
          const row: Row = {};
          for (let i = 0; i < names.length; i++) row[names[i]] = convert[i](raw[i]);
          batch.push(row);
          if (batch.length >= want) {
            yield batch;
            batch = [];
          }
        }
      } catch (e) {
        broken = e;
        throw toWarehouseError(e, this.errorContext({ ...opts, sql }));
      }
      if (batch.length > 0) yield batch;
    } finally {
      rows.destroy();
      if (broken !== undefined) await this.releaseAfterError(conn, broken);
      else this.release(conn);
    }
  }

  async describe(relation: RelationName): Promise<Column[] | undefined> {
    const rows = await this.query(describeSql(this.dialect, this.target, relation));
    if (rows.length === 0) return undefined;
    return rows.map((r) => ({
      name: fromSnowflakeName(String(r.column_name)),
      type: commonType(String(r.data_type), r.numeric_scale === null ? null : Number(r.numeric_scale)),
    }));
  }

  /**
   * EXPLAIN compiles the query (names, types, privileges) without running it, and needs no
   * running warehouse.
   */
  async validate(sql: string, opts: ExecuteOptions = {}): Promise<Validation> {
    await this.query(explainSql(sql), opts);
    return { method: 'EXPLAIN' };
  }

  /** PUT to a temporary stage, CREATE TABLE from INFER_SCHEMA, COPY INTO (see snowflake-sql.ts). */
  async loadFile(path: string, relation: RelationName): Promise<void> {
    const abs = resolve(path);
    const ext = extname(abs).toLowerCase();
    if (ext !== '.csv' && ext !== '.parquet') throw new WarehouseError(`${path}: only .csv and .parquet files can be loaded.`);
    if (!existsSync(abs)) throw new WarehouseError(`${path}: file not found.`);
    if (/['\\]/.test(abs)) throw new WarehouseError(`${path}: a file path holding ' or \\ cannot be sent with PUT; move or rename the file.`);
    const statements = loadFileSql(this.dialect, this.target, abs, relation, randomBytes(6).toString('hex').toUpperCase());
    await this.withSession(async (conn) => {
      try {
        for (const sql of statements.load) await this.run(conn, sql);
      } finally {
        for (const sql of statements.cleanup) await this.run(conn, sql).catch(() => undefined);
      }
    }, { label: path }, statements.load[0]);
  }

  async close(): Promise<void> {
    this.closed = true;
    const conns = [...this.all];
    this.all.clear();
    this.idle.length = 0;
    await Promise.all([...conns.map((c) => destroy(c)), ...this.logouts]);
  }

  // ---- sessions ---------------------------------------------------------------------------

  /** Runs fn on a session of its own; transient failures are retried on a fresh session. */
  private withSession<T>(fn: (conn: Connection) => Promise<T>, opts: ExecuteOptions, sql?: string): Promise<T> {
    return this.retrying(async () => {
      const conn = await this.acquire();
      let result: T;
      try {
        result = await fn(conn);
      } catch (e) {
        await this.releaseAfterError(conn, e);
        throw e;
      }
      this.release(conn);
      return result;
    }, { ...opts, sql });
  }

  private async acquire(): Promise<Connection> {
    if (this.closed) throw new WarehouseError('the Snowflake connection is closed');
    while (this.idle.length > 0) {
      const conn = this.idle.pop()!;
      if (conn.isUp()) return conn;
      this.all.delete(conn);
    }
    return this.connect();
  }

  private release(conn: Connection): void {
    if (!this.all.has(conn)) return;
    if (this.closed || !this.settings.reuseConnections) {
      void this.discard(conn);
      return;
    }
    this.idle.push(conn);
  }

  /** A session that failed in transit may be dead: drop it rather than hand it out again. */
  private async releaseAfterError(conn: Connection, e: unknown): Promise<void> {
    if (isTransient(e) || !conn.isUp()) await this.discard(conn);
    else this.release(conn);
  }

  private discard(conn: Connection): Promise<void> {
    this.all.delete(conn);
    const done = destroy(conn).finally(() => this.logouts.delete(done));
    this.logouts.add(done);
    return done;
  }

  /** One login, retried per connect_retries with exponential backoff; then the session set-up. */
  private async connect(): Promise<Connection> {
    const s = this.settings;
    const policy = { ...this.retryPolicy, retryable: (e: unknown) => isTransient(e) || s.retryAll || (s.retryOnDatabaseErrors && isDatabaseError(e)) };
    const attempt = async () => {
      const conn = this.snowflake.createConnection({
        ...s.options,
        ...(s.externalBrowser ? { clientStoreTemporaryCredential: true, openExternalBrowserCallback: this.hooks.openBrowser } : {}),
        ...this.hooks.sdkOptions,
      });
      try {
        await this.login(conn);
        this.all.add(conn);
        await this.run(conn, SESSION_SETUP);
        return conn;
      } catch (e) {
        this.all.delete(conn);
        // also for a login abandoned after connect_timeout: the SDK logs it out should it still
        // succeed (not waited for: close() must not hang on a login that does not answer)
        void destroy(conn);
        throw e;
      }
    };
    try {
      return await retrying(policy, attempt);
    } catch (e) {
      const { last, attempts } = e as RetriesExhausted;
      throw toWarehouseError(last, this.errorContext({ attempts }));
    }
  }

  private login(conn: Connection): Promise<void> {
    const attempt = new Promise<void>((resolve, reject) => {
      conn.connectAsync((err) => (err ? reject(err) : resolve())).catch(reject);
    });
    // the browser sign-in has its own timeout (browserActionTimeout); a person is typing
    const ms = this.settings.connectTimeoutMs;
    if (this.settings.externalBrowser || ms === 0) return attempt;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ConnectTimeout(ms)), ms);
    });
    return Promise.race([attempt, timeout]).finally(() => clearTimeout(timer));
  }

  /**
   * Snowflake logs in even when the profile's database, schema or warehouse does not exist (or
   * the role may not use it) and fails later; check them once, now, and say what to fix. A
   * missing schema is created, as dbt does.
   */
  private async checkContext(conn: Connection): Promise<void> {
    const [row] = await this.collect(conn, CONTEXT_QUERY);
    const id = this.settings.identity;
    const where = `${this.target.profileFile}, output '${this.target.name}'`;
    const role = row?.role ? `role ${String(row.role)}` : 'the role';
    const grantRole = row?.role ? String(row.role) : '<role>';
    if (!row?.warehouse) {
      throw new WarehouseError(
        id.warehouse
          ? `Snowflake warehouse '${id.warehouse}' (warehouse: in ${where}) does not exist or ${role} may not use it. Check the name, or GRANT USAGE ON WAREHOUSE ${id.warehouse} TO ROLE ${grantRole}.`
          : `no Snowflake warehouse is in use: set warehouse: in ${where} (and GRANT USAGE ON WAREHOUSE <warehouse> TO ROLE ${grantRole}).`,
      );
    }
    if (!row.database) {
      throw new WarehouseError(`Snowflake database '${id.database ?? ''}' (database: in ${where}) does not exist or ${role} may not use it. Check the name, or GRANT USAGE ON DATABASE ${id.database ?? '<database>'} TO ROLE ${grantRole}.`);
    }
    if (!row.schema) {
      const schema = this.dialect.relation({ database: String(row.database), name: this.target.schema });
      try {
        for (const sql of createSchemaSql(this.dialect, String(row.database), this.target.schema)) await this.run(conn, sql);
      } catch (e) {
        throw new WarehouseError(
          `Snowflake schema ${schema} (schema: in ${where}) does not exist and ${role} could not create it (${(e as Error).message.split('\n').join(' ')}). Create it, or GRANT CREATE SCHEMA ON DATABASE ${String(row.database)} TO ROLE ${grantRole}; to use an existing one, GRANT USAGE ON SCHEMA ${schema} TO ROLE ${grantRole}.`,
        );
      }
    }
  }

  // ---- statements -------------------------------------------------------------------------

  /** Starts a statement; resolves once Snowflake has run it and its result can be read. */
  private start(conn: Connection, sql: string, streamResult: boolean): Promise<RowStatement> {
    return new Promise((resolve, reject) => {
      try {
        conn.execute({
          sqlText: sql,
          streamResult,
          rowMode: 'array',
          // numbers as text: int64 stays exact (snowflake-types.ts)
          fetchAsString: ['Number'],
          complete: (err, stmt) => (err ? reject(err) : resolve(stmt)),
        });
      } catch (e) {
        reject(e);
      }
    });
  }

  /** Runs a statement on a session, reading (and dropping) its small status result. */
  private async run(conn: Connection, sql: string): Promise<void> {
    await this.start(conn, sql, false);
  }

  private async collect(conn: Connection, sql: string): Promise<Row[]> {
    const stmt = await this.start(conn, sql, true);
    const columns = stmt.getColumns() ?? [];
    const names = columns.map((c) => fromSnowflakeName(c.getName()));
    const convert = columns.map((c) => converterFor(c.getType(), c.getScale()));
    const rows: Row[] = [];
    for await (const raw of stmt.streamRows() as AsyncIterable<unknown[]>) {
      const row: Row = {};
      for (let i = 0; i < names.length; i++) row[names[i]] = convert[i](raw[i]);
      rows.push(row);
    }
    return rows;
  }

  /** Retries fn on transient errors (connect_retries times, exponential backoff), then reports. */
  private async retrying<T>(fn: () => Promise<T>, opts: ExecuteOptions & { sql?: string }): Promise<T> {
    try {
      return await retrying({ ...this.retryPolicy, retryable: (e) => !(e instanceof WarehouseError) && isTransient(e) }, fn);
    } catch (e) {
      const { last, attempts } = e as RetriesExhausted;
      if (last instanceof WarehouseError) throw last;
      throw toWarehouseError(last, this.errorContext({ ...opts, attempts }));
    }
  }

  /** connect_retries retries, jittered backoff from retryBaseMs doubling up to 30 s. */
  private get retryPolicy(): RetryPolicy {
    return { retries: this.settings.connectRetries, baseMs: this.hooks.retryBaseMs ?? 1000, capMs: 30_000, jitter: true, retryable: isTransient };
  }

  private errorContext(opts: { label?: string; sql?: string; attempts?: number }) {
    return { settings: this.settings, profileFile: this.target.profileFile, targetName: this.target.name, label: opts.label, sql: opts.sql, attempts: opts.attempts };
  }
}

function destroy(conn: Connection): Promise<void> {
  return new Promise((resolve) => {
    try {
      if (!conn.isUp()) return resolve();
      conn.destroy(() => resolve());
    } catch {
      resolve();
    }
  });
}
