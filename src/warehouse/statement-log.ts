/**
 * `--debug`: every statement sent to the warehouse on the log, with its duration (what `dbt
 * --debug` shows), by wrapping the adapter: the adapters themselves know nothing of it.
 */
import type { Logger } from '../log.js';
import type { Warehouse } from './warehouse.js';

export function loggingStatements(wh: Warehouse, log: Logger): Warehouse {
  const timed = async <T>(sql: string, label: string | undefined, run: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await run();
    } finally {
      const ms = Math.round(performance.now() - t0);
      log.debug(`SQL${label ? ` (${label})` : ''} in ${ms} ms:\n${sql}`, { sql, duration_ms: ms, ...(label ? { label } : {}) });
    }
  };
  async function* timedStream<T>(sql: string, label: string | undefined, chunks: () => AsyncIterable<T>): AsyncIterable<T> {
    const t0 = performance.now();
    try {
      yield* chunks();
    } finally {
      const ms = Math.round(performance.now() - t0);
      log.debug(`SQL${label ? ` (${label})` : ''}, streamed in ${ms} ms:\n${sql}`, { sql, duration_ms: ms, ...(label ? { label } : {}) });
    }
  }
  return {
    dialect: wh.dialect,
    target: wh.target,
    execute: (statements, opts) => timed([statements].flat().join(';\n'), opts?.label, () => wh.execute(statements, opts)),
    query: (sql, opts) => timed(sql, opts?.label, () => wh.query(sql, opts)),
    stream: (sql, opts) => timedStream(sql, opts?.label, () => wh.stream(sql, opts)),
    streamColumns: (sql, opts) => timedStream(sql, opts?.label, () => wh.streamColumns(sql, opts)),
    describe: (relation) => timed(`-- describe ${wh.dialect.relation(relation)}`, undefined, () => wh.describe(relation)),
    loadFile: (path, relation) => timed(`-- load ${path} into ${wh.dialect.relation(relation)}`, undefined, () => wh.loadFile(path, relation)),
    ...(wh.validate ? { validate: (sql, opts) => timed(`-- validate\n${sql}`, opts?.label, () => wh.validate!(sql, opts)) } : {}),
    close: () => wh.close(),
  };
}
