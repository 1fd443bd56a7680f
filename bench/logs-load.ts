/**
 * bench/logs-load: `fsql logs load` into DuckDB, entries per second, against DuckDB reading the
 * same NDJSON segments itself in the same run.
 *
 *   npm run build && node dist/bench/logs-load.js [--entries 300000]
 *
 * Writes segments of the shape of the example's fraud_detection (2 join keys, 15 features of 3
 * views, their effective times; a line per request of 1 to 10 rows) and loads them with loadLogs
 * (what `fsql logs load` runs: on DuckDB, lines copied as they are into an NDJSON file per batch
 * that DuckDB reads and unnests itself, one transaction with the ledger per batch). The baseline is
 * a floor: one statement, DuckDB's own `read_ndjson` of the files into a table of a row per entry
 * (each line's id and time, unnested as the loader does), without the entries' values split into
 * columns, checks, typed columns or the exactly-once ledger.
 * Target: at least 100,000 entries/s.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { segmentHeader, type SegmentHeader } from '../src/feature-log/segment.js';
import { Logger } from '../src/log.js';
import { loadLogs } from '../src/offline/logs-load.js';
import type { Project, ServiceDef, Target } from '../src/project/types.js';
import { DuckDbWarehouse } from '../src/warehouse/duckdb.js';
import { numberFlag, THREADS, withDuckDb } from './measure.js';


const VIEWS: [string, [string, 'int64' | 'float64'][]][] = [
  ['merchant_risk', [['chargeback_rate', 'float64'], ['risk_score', 'float64'], ['txn_count_30d', 'int64'], ['volume_30d', 'float64']]],
  ['user_merchant_pair', [['pair_spend_30d', 'float64'], ['pair_txn_count_30d', 'int64']]],
  ['user_transaction_stats', [['avg_amount_7d', 'float64'], ['large_txn_count_1d', 'int64'], ['max_amount_7d', 'float64'], ['spend_1d', 'float64'], ['spend_1h', 'float64'], ['spend_7d', 'float64'], ['txn_count_1d', 'int64'], ['txn_count_1h', 'int64'], ['txn_count_7d', 'int64']]],
];

function writeSegments(dir: string, entries: number, perSegment: number): void {
  const folder = join(dir, 'fraud_detection');
  mkdirSync(folder, { recursive: true });
  const start = Date.UTC(2026, 0, 1) * 1000;
  for (let s = 0; s * perSegment < entries; s++) {
    const header: SegmentHeader = {
      ...segmentHeader(
        'fraud_detection',
        [{ name: 'user_id', type: { type: 'string' } }, { name: 'merchant_id', type: { type: 'string' } }],
        [],
        VIEWS.flatMap(([view, fs]) => fs.map(([feature, type]) => ({ view, feature, type: { type } }))),
        VIEWS.map(([v]) => v),
      ),
      segment: `bench-${s}`,
    };
    const lines = [JSON.stringify(header)];
    const values = (i: number) => VIEWS.flatMap(([, fs]) => fs.map(([, type]) => (type === 'int64' ? `"${i % 97}"` : String((i % 1000) / 7)))).join(',');
    // one line per request, as the server writes them: requests of 1 to 10 rows
    const last = Math.min(entries, (s + 1) * perSegment);
    for (let i = s * perSegment; i < last; ) {
      const rows = Array.from({ length: Math.min(1 + (i % 10), last - i) }, (_, r) => i + r);
      const keys = rows.map((j) => `"u_${j % 5000}","m_${j % 300}"`).join(',');
      lines.push(`{"n":${rows.length},"id":"bench-${i}","t":${start + i * 1000},"k":[${keys}],"c":[],"v":[${rows.map(values).join(',')}],"e":[${rows.map(() => `${start},${start + 5},null`).join(',')}]}`);
      i += rows.length;
    }
    writeFileSync(join(folder, `bench-${String(s).padStart(4, '0')}.ndjson`), `${lines.join('\n')}\n`);
  }
}

async function main(): Promise<void> {
  const entries = numberFlag('--entries', 300_000);
  const work = mkdtempSync(join(tmpdir(), 'fsql-bench-logs-'));
  const logDir = join(work, 'logs');
  writeSegments(logDir, entries, 100_000);
  const target: Target = { name: 'bench', type: 'duckdb', schema: 'main', threads: THREADS, settings: { path: join(work, 'fsql.duckdb') }, onlineStore: { type: 'sqlite' }, serve: { auth: false }, profileFile: 'bench' };
  const service: ServiceDef = { name: 'fraud_detection', description: '', features: [], online: true, logging: { sampleRate: 1 }, file: 'bench' };
  const project = { target, services: new Map([['fraud_detection', service]]), views: new Map() } as unknown as Project;

  const wh = await DuckDbWarehouse.open(target);
  const t0 = performance.now();
  const [result] = await loadLogs(project, wh, logDir, new Logger('text', true));
  const fsqlSeconds = (performance.now() - t0) / 1000;
  await wh.close();
  if (result.entries !== entries) throw new Error(`loaded ${result.entries} of ${entries}`);

  const baseSeconds = await withDuckDb(join(work, 'baseline.duckdb'), async (c) => {
    const t1 = performance.now();
    await c.run(`create table logged as select id, t, unnest(range(coalesce(n, 1))) as i from read_ndjson('${join(logDir, 'fraud_detection', '*.ndjson')}', format = 'newline_delimited', ignore_errors = true) where id is not null`);
    const seconds = (performance.now() - t1) / 1000;
    const [[rows]] = (await c.runAndReadAll('select count(*) from logged')).getRows();
    if (Number(rows) !== entries) throw new Error(`the baseline read ${rows} rows of ${entries} entries`);
    return seconds;
  });
  const rate = entries / fsqlSeconds;
  console.log(`logs load into DuckDB, ${entries} entries in ${Math.ceil(entries / 100_000)} segments, ${THREADS} threads`);
  console.log(`fsql logs load: ${fsqlSeconds.toFixed(2)}s, ${Math.round(rate)} entries/s (target >= 100000)`);
  console.log(`baseline (DuckDB read_ndjson into a table, a row per entry, values not split): ${baseSeconds.toFixed(2)}s, ${Math.round(entries / baseSeconds)} entries/s; fsql/baseline time ratio ${(fsqlSeconds / baseSeconds).toFixed(2)}`);
}

await main();
