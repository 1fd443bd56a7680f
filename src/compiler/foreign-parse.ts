/**
 * node-sql-parser over many views, on every core: its BigQuery grammar takes about 2 ms a view,
 * most of a 1,000-view compile, and views parse independently. Worker threads each take a share;
 * this thread parses one too. Small projects parse here (a worker costs about 50 ms to start).
 * Results come back in the views' order, so the output is the same however the work was split.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { Parser } from 'node-sql-parser';
// a type only: a worker loads node-sql-parser and nothing of DuckDB's
import type { ParseResult } from './sql-check.js';

/** Below this many views a worker costs more than it saves. */
const MIN_VIEWS_PER_WORKER = 150;

export async function parseForeignAll(sqls: string[], grammar: string): Promise<ParseResult[]> {
  const shares = Math.min(availableParallelism(), Math.floor(sqls.length / MIN_VIEWS_PER_WORKER));
  if (shares < 2) return sqls.map((sql) => parseForeign(sql, grammar));
  const size = Math.ceil(sqls.length / shares);
  const chunks = Array.from({ length: shares }, (_, i) => sqls.slice(i * size, (i + 1) * size));
  const others = chunks.slice(1).map((chunk) => inWorker(chunk, grammar));
  const mine = chunks[0].map((sql) => parseForeign(sql, grammar));
  return [...mine, ...(await Promise.all(others)).flat()];
}

function inWorker(sqls: string[], grammar: string): Promise<ParseResult[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { sqls, grammar } });
    worker.once('message', (results: ParseResult[]) => {
      resolve(results);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

/**
 * Loaded on first use, and only the grammar asked for: node-sql-parser's bundle of every grammar
 * (2.5 MB) cost every DuckDB command half a second, and its build of one grammar loads about ten
 * times faster than that bundle.
 */
const sqlParsers = new Map<string, Parser>();
function parser(database: string): Parser {
  let p = sqlParsers.get(database);
  if (!p) {
    const { Parser } = createRequire(import.meta.url)(`node-sql-parser/build/${database}`) as typeof import('node-sql-parser');
    sqlParsers.set(database, (p = new Parser()));
  }
  return p;
}

/**
 * node-sql-parser in the warehouse's grammar, and the output columns it reads. It lacks some valid
 * constructs (BigQuery's `SELECT * EXCEPT`, `STRUCT<a INT64>`), so callers treat failures as warnings.
 */
export function parseForeign(sql: string, database: string): ParseResult {
  try {
    const ast = parser(database).astify(sql, { database });
    return { columns: foreignColumns(Array.isArray(ast) ? ast[0] : ast) };
  } catch (e) {
    const err = e as Error & { location?: { start?: { line?: number } } };
    return { error: { message: err.message.split('\n')[0], line: err.location?.start?.line } };
  }
}

type ColumnRef = string | { expr?: { value?: unknown } };
interface ForeignSelect {
  type?: string;
  columns?: { as?: unknown; expr?: { type?: string; column?: ColumnRef } }[] | string;
}

function foreignColumns(ast: unknown): string[] | undefined {
  const select = ast as ForeignSelect;
  if (select?.type !== 'select' || !Array.isArray(select.columns)) return undefined;
  const names: string[] = [];
  for (const c of select.columns) {
    if (typeof c.as === 'string' && c.as) names.push(c.as);
    else if (c.expr?.type === 'column_ref' && c.expr.column !== undefined) {
      const col = c.expr.column;
      const name = typeof col === 'string' ? col : col.expr?.value;
      if (typeof name !== 'string' || name === '*') return undefined;
      names.push(name);
    } else return undefined;
  }
  return names;
}

if (!isMainThread && workerData?.grammar) {
  const { sqls, grammar } = workerData as { sqls: string[]; grammar: string };
  parentPort!.postMessage(sqls.map((sql) => parseForeign(sql, grammar)));
}
