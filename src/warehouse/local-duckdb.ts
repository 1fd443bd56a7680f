/**
 * A throwaway in-memory DuckDB for work on local files when the target is another warehouse:
 * numbering the rows of an events file before it is uploaded, turning streamed rows into parquet.
 * One thread, so a file is read and written in its own order.
 */
import type { Target } from '../project/types.js';
import { DuckDbWarehouse } from './duckdb.js';
import type { Warehouse } from './warehouse.js';

const LOCAL: Target = {
  name: 'local',
  type: 'duckdb',
  schema: 'main',
  threads: 1,
  settings: { path: ':memory:' },
  onlineStore: { type: 'sqlite' },
  serve: { auth: false },
  profileFile: '(local in-memory DuckDB)',
};

export async function withLocalDuckDb<T>(fn: (wh: Warehouse) => Promise<T>): Promise<T> {
  const wh = await DuckDbWarehouse.open(LOCAL);
  try {
    return await fn(wh);
  } finally {
    await wh.close();
  }
}
