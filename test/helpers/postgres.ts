/**
 * A PostgreSQL database of the test's own on the machine's server ($FSQL_TEST_PG, default
 * postgres://postgres@127.0.0.1:5432/postgres), created fresh and dropped at the end, so test
 * files never collide. .ci/run installs and starts PostgreSQL where it is missing.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Target } from '../../src/project/types.js';
import { PostgresWarehouse } from '../../src/warehouse/postgres.js';

export const PG_URL = new URL(process.env.FSQL_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres');

export interface TestDatabase {
  name: string;
  /** dbt-postgres profile keys for it */
  profile: { type: 'postgres'; host: string; port: number; user: string; password?: string; dbname: string; schema: string; threads: number };
  drop(): Promise<void>;
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_URL.href, connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export async function createTestDatabase(prefix = 'fsql_test'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`create database ${name}`));
  return {
    name,
    profile: {
      type: 'postgres',
      host: PG_URL.hostname,
      port: Number(PG_URL.port || 5432),
      user: decodeURIComponent(PG_URL.username || 'postgres'),
      ...(PG_URL.password ? { password: decodeURIComponent(PG_URL.password) } : {}),
      dbname: name,
      schema: 'fsql',
      threads: 2,
    },
    drop: () => admin((c) => c.query(`drop database if exists ${name} with (force)`)).then(() => undefined),
  };
}

export function pgTarget(db: TestDatabase): Target {
  const { schema, dbname, threads, ...settings } = db.profile;
  return { name: 'pg', type: 'postgres', schema, database: dbname, threads, settings: { ...settings, dbname }, onlineStore: { type: 'sqlite' }, serve: { auth: false }, profileFile: 'test' };
}

export function openPostgres(db: TestDatabase): Promise<PostgresWarehouse> {
  return PostgresWarehouse.open(pgTarget(db));
}

/** `fn` on a warehouse over a database of its own, closed and dropped after (also when opening fails). */
export async function withTestPostgres<T>(fn: (wh: PostgresWarehouse) => Promise<T>): Promise<T> {
  const db = await createTestDatabase();
  try {
    const wh = await openPostgres(db);
    try {
      return await fn(wh);
    } finally {
      await wh.close();
    }
  } finally {
    await db.drop();
  }
}

/** The environment the example's `pg` target reads its connection from. */
export function examplePgEnv(db: TestDatabase): Record<string, string> {
  return { FSQL_PG_DBNAME: db.name, FSQL_PG_HOST: db.profile.host, FSQL_PG_PORT: String(db.profile.port), FSQL_PG_USER: db.profile.user, FSQL_PG_PASSWORD: db.profile.password ?? '' };
}

/** The source table the example's sources.yml names on warehouses: raw.transactions, from the project's data/. */
export async function loadExampleSource(db: TestDatabase, dir: string): Promise<void> {
  const wh = await openPostgres(db);
  try {
    await wh.execute('create schema raw');
    await wh.loadFile(`${dir}/data/transactions.csv`, { schema: 'raw', name: 'transactions' });
  } finally {
    await wh.close();
  }
}
