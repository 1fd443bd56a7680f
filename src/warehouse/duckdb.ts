/** The DuckDB adapter: a file (or in-memory) database, one connection per concurrent caller. */
import { mkdirSync } from 'node:fs';
import { dirname, extname } from 'node:path';
import type { DuckDBConnection, DuckDBDataChunk, DuckDBInstance, DuckDBType } from '@duckdb/node-api';
import { duckdbApi } from '../duckdb-api.js';
import type { ColumnBatch } from '../column-batch.js';
import { WarehouseError } from '../errors.js';
import type { RelationName } from '../plans/relation.js';
import { dialectFor } from '../dialects/index.js';
import { renderLoadFile } from '../dialects/staging.js';
import type { Target } from '../project/types.js';
import type { Column, DataType, Row } from '../values.js';
import { chunkColumns, chunkReader } from './duckdb-chunk.js';
import type { ExecuteOptions, Validation, Warehouse } from './warehouse.js';

export class DuckDbWarehouse implements Warehouse {
  readonly dialect = dialectFor('duckdb');
  private readonly idle: DuckDBConnection[] = [];

  private constructor(
    readonly target: Target,
    private readonly instance: DuckDBInstance,
  ) {}

  static async open(target: Target): Promise<DuckDbWarehouse> {
    const path = String(target.settings.path ?? ':memory:');
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    let instance: DuckDBInstance;
    try {
      // dbt-duckdb's `settings:` (memory_limit, temp_directory, ...) are DuckDB configuration options.
      const settings = Object.fromEntries(Object.entries((target.settings.settings as Record<string, unknown> | undefined) ?? {}).map(([k, v]) => [k, String(v)]));
      instance = await duckdbApi.DuckDBInstance.create(path, { ...settings, threads: String(Math.max(1, target.threads)) });
    } catch (e) {
      throw new WarehouseError(`cannot open DuckDB database ${path}: ${(e as Error).message}. Another fsql process may hold it; wait for it or use another path.`);
    }
    const wh = new DuckDbWarehouse(target, instance);
    const conn = await wh.acquire();
    try {
      for (const ext of (target.settings.extensions as string[] | undefined) ?? []) await conn.run(`load ${ext}`);
      if (target.schema !== 'main') await conn.run(wh.dialect.createSchema(target.schema));
    } finally {
      wh.release(conn);
    }
    return wh;
  }

  async execute(statements: string | string[], opts: ExecuteOptions = {}): Promise<void> {
    const list = typeof statements === 'string' ? [statements] : statements;
    await this.withConnection(async (conn) => {
      if (!opts.atomic) {
        for (const sql of list) await this.run(conn, sql, opts);
        return;
      }
      await conn.run('begin transaction');
      try {
        for (const sql of list) await this.run(conn, sql, opts);
        await conn.run('commit');
      } catch (e) {
        await conn.run('rollback').catch(() => undefined);
        throw e;
      }
    });
  }

  async query(sql: string, opts: ExecuteOptions = {}): Promise<Row[]> {
    const rows: Row[] = [];
    for await (const chunk of this.stream(sql, opts)) rows.push(...chunk);
    return rows;
  }

  async *stream(sql: string, opts: ExecuteOptions & { chunkRows?: number } = {}): AsyncIterable<Row[]> {
    const want = opts.chunkRows ?? 2048;
    let batch: Row[] = [];
    for await (const rows of this.chunks(sql, opts, chunkReader)) {
      if (batch.length === 0 && rows.length >= want) batch = rows;
      else for (const row of rows) batch.push(row);
      if (batch.length >= want) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }

  /** DuckDB's own chunks (up to 2,048 rows each), as column batches over their memory. */
  streamColumns(sql: string, opts: ExecuteOptions = {}): AsyncIterable<ColumnBatch> {
    return this.chunks(sql, opts, chunkColumns);
  }

  /** The result's chunks as DuckDB returns them, each read by a reader made once from the columns' names and types. */
  private async *chunks<T>(sql: string, opts: ExecuteOptions, reader: (names: string[], types: DuckDBType[]) => (chunk: DuckDBDataChunk) => T): AsyncIterable<T> {
    const conn = await this.acquire();
    try {
      let result;
      try {
        result = await conn.stream(sql);
      } catch (e) {
        throw this.error(e, sql, opts);
      }
      const read = reader(result.columnNames(), result.columnTypes());
      for (;;) {
        const chunk = await result.fetchChunk();
        if (!chunk || chunk.rowCount === 0) break;
        yield read(chunk);
      }
    } finally {
      this.release(conn);
    }
  }

  async describe(relation: RelationName): Promise<Column[] | undefined> {
    const schema = relation.schema ?? this.target.schema;
    const rows = await this.query(
      `select column_name, data_type from information_schema.columns where table_schema = ${this.dialect.stringLiteral(schema)} and table_name = ${this.dialect.stringLiteral(relation.name)} order by ordinal_position`,
    );
    if (rows.length === 0) return undefined;
    return rows.map((r) => ({ name: String(r.column_name), type: typeFromSql(String(r.data_type)) }));
  }

  async loadFile(path: string, relation: RelationName): Promise<void> {
    const ext = extname(path).toLowerCase();
    if (ext !== '.csv' && ext !== '.parquet') throw new WarehouseError(`${path}: only .csv and .parquet files can be loaded.`);
    await this.execute(renderLoadFile(this.dialect, path, relation));
  }

  /** EXPLAIN binds every name and type without running the query. */
  async validate(sql: string, opts: ExecuteOptions = {}): Promise<Validation> {
    await this.query(`explain ${sql}`, opts);
    return { method: 'EXPLAIN' };
  }

  async close(): Promise<void> {
    for (const c of this.idle.splice(0)) c.closeSync();
    this.instance.closeSync();
  }

  private async run(conn: DuckDBConnection, sql: string, opts: ExecuteOptions): Promise<void> {
    try {
      await conn.run(sql);
    } catch (e) {
      throw this.error(e, sql, opts);
    }
  }

  private error(e: unknown, _sql: string, opts: ExecuteOptions): WarehouseError {
    return new WarehouseError(`${opts.label ? `${opts.label}: ` : ''}DuckDB: ${(e as Error).message}`);
  }

  private async withConnection<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    const conn = await this.acquire();
    try {
      return await fn(conn);
    } finally {
      this.release(conn);
    }
  }

  private async acquire(): Promise<DuckDBConnection> {
    const idle = this.idle.pop();
    if (idle) return idle;
    const conn = await this.instance.connect();
    // Timestamps are UTC.
    await conn.run(`set TimeZone = 'UTC'; set schema = ${this.dialect.stringLiteral(this.target.schema)}`);
    return conn;
  }

  private release(conn: DuckDBConnection): void {
    this.idle.push(conn);
  }
}

/** information_schema data_type text -> common type */
export function typeFromSql(sqlType: string): DataType {
  const t = sqlType.toUpperCase().trim();
  if (t.endsWith('[]')) return { type: 'array', elementType: typeFromSql(t.slice(0, -2)) };
  const arr = /^(?:LIST|ARRAY)\s*[(<](.*)[)>]$/.exec(t);
  if (arr) return { type: 'array', elementType: typeFromSql(arr[1]) };
  if (/^\w+\[\d+\]$/.test(t)) return { type: 'array', elementType: typeFromSql(t.replace(/\[\d+\]$/, '')) };
  if (t === 'BOOLEAN' || t === 'BOOL') return { type: 'boolean' };
  if (/^(TINYINT|SMALLINT|INTEGER|INT|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|INT64)$/.test(t)) return { type: 'int64' };
  if (/^(FLOAT|DOUBLE|REAL|FLOAT64)$/.test(t) || t.startsWith('DECIMAL') || t.startsWith('NUMERIC')) return { type: 'float64' };
  if (t.startsWith('TIMESTAMP') || t === 'DATE' || t === 'DATETIME') return { type: 'timestamp' };
  return { type: 'string' };
}
