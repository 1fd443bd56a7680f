/**
 * The PostgreSQL adapter (15+), with the `pg` driver: a pool of `threads` sessions, each in UTC
 * with the profile's search_path and role; large results through a server-side cursor (pg-cursor),
 * never whole; files loaded with COPY FROM STDIN (pg-copy-streams), after a local DuckDB has read
 * them (csv or parquet) and written them as csv with their column types.
 * Connection failures are retried (`retries`, dbt-postgres's key; default 1) with backoff; a
 * server that does not answer within connect_timeout is an error, not a hang.
 */
import { createReadStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import Cursor from 'pg-cursor';
import copyStreams from 'pg-copy-streams';
import { batchesFromRows, type ColumnBatch } from '../column-batch.js';
import { dialectFor } from '../dialects/index.js';
import { renderLoadFile } from '../dialects/staging.js';
import { WarehouseError } from '../errors.js';
import type { RelationName } from '../plans/relation.js';
import type { Target } from '../project/types.js';
import type { Column, Row } from '../values.js';
import { withLocalDuckDb } from './local-duckdb.js';
import { commonType, pgTypeOf, pgTypes } from './postgres-types.js';
import { retrying, type RetriesExhausted } from './retry.js';
import type { ExecuteOptions, Validation, Warehouse } from './warehouse.js';

/** SQLSTATE classes worth another attempt: connection exceptions, shutdowns, too many connections. */
const TRANSIENT_STATES = /^(08|57P0[123]|53300)/;
const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH']);

function isTransient(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  return (typeof err?.code === 'string' && (TRANSIENT_STATES.test(err.code) || TRANSIENT_CODES.has(err.code))) || /timeout exceeded when trying to connect|Connection terminated/i.test(err?.message ?? '');
}

export class PostgresWarehouse implements Warehouse {
  readonly dialect = dialectFor('postgres');

  private constructor(
    readonly target: Target,
    private readonly pool: pg.Pool,
    private readonly retries: number,
  ) {}

  static async open(target: Target): Promise<PostgresWarehouse> {
    const s = target.settings;
    const num = (k: string, fallback?: number) => (s[k] === undefined || s[k] === null ? fallback : Number(s[k]));
    const searchPath = s.search_path === undefined ? undefined : String(s.search_path);
    const role = s.role === undefined ? undefined : String(s.role);
    const pool = new pg.Pool({
      host: String(s.host),
      port: num('port', 5432),
      user: String(s.user),
      password: s.password ? String(s.password) : undefined,
      database: target.database,
      max: target.threads,
      connectionTimeoutMillis: (num('connect_timeout', 10) ?? 10) * 1000,
      keepAlive: true,
      keepAliveInitialDelayMillis: (num('keepalives_idle', 0) ?? 0) * 1000,
      application_name: s.application_name === undefined ? 'fsql' : String(s.application_name),
      ssl: sslOptions(s),
      types: pgTypes,
      // every session in UTC, with the profile's search_path and role
      options: ['-c TimeZone=UTC', ...(searchPath ? [`-c search_path=${searchPath.replace(/[\s\\]/g, '\\$&')}`] : [])].join(' '),
    });
    pool.on('error', () => undefined); // an idle session's failure surfaces on its next use
    if (role) pool.on('connect', (client) => void client.query(`set role ${dialectFor('postgres').quoteIdent(role)}`).catch(() => undefined));
    const wh = new PostgresWarehouse(target, pool, num('retries', 1) ?? 1);
    try {
      await wh.execute(wh.dialect.createSchema(target.schema), { label: `schema ${target.schema}` });
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw e;
    }
    return wh;
  }

  async execute(statements: string | string[], opts: ExecuteOptions = {}): Promise<void> {
    const list = Array.isArray(statements) ? statements : [statements];
    await this.withClient(opts, async (client) => {
      if (!opts.atomic || list.length < 2) {
        for (const sql of list) await this.run(client, sql, opts);
        return;
      }
      await client.query('begin');
      try {
        for (const sql of list) await this.run(client, sql, opts);
        await client.query('commit');
      } catch (e) {
        await client.query('rollback').catch(() => undefined);
        throw e;
      }
    });
  }

  async query(sql: string, opts: ExecuteOptions = {}): Promise<Row[]> {
    return this.withClient(opts, async (client) => (await this.run(client, sql, opts)).rows as Row[]);
  }

  async *stream(sql: string, opts: ExecuteOptions & { chunkRows?: number } = {}): AsyncIterable<Row[]> {
    const client = await this.connect(opts);
    const cursor = client.query(new Cursor(sql, undefined, { types: pgTypes }));
    let failed = false;
    try {
      for (;;) {
        let rows: Row[];
        try {
          rows = (await cursor.read(opts.chunkRows ?? 2048)) as Row[];
        } catch (e) {
          failed = true;
          throw this.error(e, sql, opts);
        }
        if (rows.length === 0) return;
        yield rows;
      }
    } finally {
      await cursor.close().catch(() => undefined);
      client.release(failed);
    }
  }

  streamColumns(sql: string, opts: ExecuteOptions & { chunkRows?: number } = {}): AsyncIterable<ColumnBatch> {
    return batchesFromRows(this.stream(sql, opts));
  }

  async describe(relation: RelationName): Promise<Column[] | undefined> {
    const rows = await this.withClient({ label: `describe ${relation.name}` }, async (client) =>
      (
        await client.query(
          'select column_name, data_type, numeric_scale from information_schema.columns where table_schema = $1 and table_name = $2 order by ordinal_position',
          [relation.schema ?? this.target.schema, relation.name],
        )
      ).rows,
    );
    if (rows.length === 0) return undefined;
    return rows.map((r) => ({ name: String(r.column_name), type: commonType(String(r.data_type), r.numeric_scale === null ? null : Number(r.numeric_scale)) }));
  }

  /** A local DuckDB reads the file (csv or parquet) and writes it as csv; the table gets its column types; COPY loads the rows. */
  async loadFile(path: string, relation: RelationName): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), 'fsql-pg-load-'));
    try {
      const csv = join(dir, 'rows.csv');
      const columns = await withLocalDuckDb(async (local) => {
        const staged = { name: 'fsql_load' };
        await local.execute(renderLoadFile(local.dialect, path, staged));
        await local.execute(local.dialect.copyToFile(`select * from ${local.dialect.relation(staged)}`, csv, 'csv'));
        return (await local.describe(staged)) ?? [];
      });
      const d = this.dialect;
      const table = d.relation(relation);
      await this.withClient({ label: path }, async (client) => {
        await client.query('begin');
        try {
          await this.run(client, d.dropTable(table), { label: path });
          await this.run(client, `create table ${table} (${columns.map((c) => `${d.quoteIdent(c.name)} ${pgTypeOf(c.type)}`).join(', ')})`, { label: path });
          await pipeline(createReadStream(csv), client.query(copyStreams.from(`copy ${table} from stdin with (format csv, header true)`)));
          await client.query('commit');
        } catch (e) {
          await client.query('rollback').catch(() => undefined);
          throw e instanceof WarehouseError ? e : this.error(e, `copy ${table}`, { label: path });
        }
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** EXPLAIN plans the query (names, types, privileges) and runs nothing. */
  async validate(sql: string, opts: ExecuteOptions = {}): Promise<Validation> {
    await this.query(`explain ${sql}`, opts);
    return { method: 'EXPLAIN' };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async withClient<T>(opts: ExecuteOptions, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.connect(opts);
    let broken = false;
    try {
      return await fn(client);
    } catch (e) {
      broken = !(e instanceof WarehouseError);
      throw e;
    } finally {
      client.release(broken);
    }
  }

  /** A pooled session; connecting is retried on transient failures. */
  private async connect(opts: ExecuteOptions): Promise<pg.PoolClient> {
    try {
      return await retrying({ retries: this.retries, baseMs: 1000, capMs: 30_000, jitter: true, retryable: isTransient }, () => this.pool.connect());
    } catch (e) {
      const { last, attempts } = e as RetriesExhausted;
      const s = this.target.settings;
      throw new WarehouseError(
        `${opts.label ? `${opts.label}: ` : ''}cannot connect to PostgreSQL at ${String(s.host)}:${String(s.port ?? 5432)} (database ${this.target.database}, user ${String(s.user)}) after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${(last as Error).message}. Check host, port, user, password and dbname of output '${this.target.name}' in ${this.target.profileFile}.`,
      );
    }
  }

  private async run(client: pg.PoolClient, sql: string, opts: ExecuteOptions): Promise<pg.QueryResult> {
    try {
      return await client.query(sql);
    } catch (e) {
      throw this.error(e, sql, opts);
    }
  }

  /** The server's message with the line of the SQL it points at. */
  private error(e: unknown, sql: string, opts: ExecuteOptions): WarehouseError {
    const err = e as { message?: string; position?: string; code?: string; hint?: string };
    const line = err.position ? `, line ${sql.slice(0, Number(err.position)).split('\n').length} of the SQL` : '';
    return new WarehouseError(`${opts.label ? `${opts.label}: ` : ''}PostgreSQL${err.code ? ` (${err.code})` : ''}${line}: ${err.message ?? String(e)}${err.hint ? ` Hint: ${err.hint}` : ''}`);
  }
}

/** dbt-postgres sslmode (and sslrootcert, sslcert, sslkey) -> pg's ssl option; `prefer` (libpq's default) connects without TLS, as pg cannot fall back. */
function sslOptions(s: Record<string, unknown>): pg.ClientConfig['ssl'] {
  const mode = s.sslmode === undefined ? 'prefer' : String(s.sslmode);
  if (mode === 'disable' || mode === 'allow' || mode === 'prefer') return false;
  const read = (k: string) => (s[k] === undefined ? undefined : { [k]: String(s[k]) });
  const files = { ...read('sslrootcert'), ...read('sslcert'), ...read('sslkey') };
  return {
    rejectUnauthorized: mode === 'verify-ca' || mode === 'verify-full',
    ...(mode === 'verify-ca' ? { checkServerIdentity: () => undefined } : {}),
    ...(files.sslrootcert ? { ca: readFileSync(files.sslrootcert, 'utf8') } : {}),
    ...(files.sslcert ? { cert: readFileSync(files.sslcert, 'utf8') } : {}),
    ...(files.sslkey ? { key: readFileSync(files.sslkey, 'utf8') } : {}),
  };
}
