/**
 * node-sql-parser over many views, on every core: its BigQuery grammar takes about 2 ms a view,
 * most of a 1,000-view compile, and views parse independently. Worker threads each take a share;
 * this thread parses one too. Small projects parse here (a worker costs about 50 ms to start).
 * Results come back in the views' order, so the output is the same however the work was split.
 */
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { parseForeign, type ParseResult } from './sql-check.js';

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

if (!isMainThread && workerData?.grammar) {
  const { sqls, grammar } = workerData as { sqls: string[]; grammar: string };
  parentPort!.postMessage(sqls.map((sql) => parseForeign(sql, grammar)));
}
