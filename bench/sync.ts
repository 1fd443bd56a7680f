/**
 * bench/sync: `fsql sync` of N entities x 10 features from DuckDB into Redis, a local 3-node Redis
 * Cluster, and SQLite.
 *
 *   npx tsc -p . && node dist/bench/sync.js [--entities 1000000[,2500000...]] [--store redis|cluster|sqlite|both|all]
 *
 * `both` is redis and sqlite; `all` adds the cluster. Each size in --entities is run in turn; the
 * default is 1,000,000 for Redis and the cluster, and 800,000 and 2,500,000 for SQLite (where cost
 * used to grow faster than the rows: the sizes show it stays linear).
 *
 * Prints entity rows/s, peak RSS (and RSS as the sync progresses, to show it stays flat) and, in
 * the same run, a ceiling for each store: `redis-benchmark -P 100 -t hset` for Redis (and, closer
 * to what a sync asks of Redis, redis-benchmark sending fsql's own SET ... PXAT ... NX), and plain
 * `INSERT OR REPLACE` of the same rows in 5,000-row transactions for SQLite (no monotonic check,
 * no typed codec). Not a test: no thresholds, no time limits.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Logger } from '../src/log.js';
import { runViews } from '../src/offline/run.js';
import { openOnlineStore } from '../src/online/open.js';
import { syncViews } from '../src/offline/sync.js';
import { loadProject } from '../src/project/load.js';
import { Timestamp } from '../src/values.js';
import { openWarehouse } from '../src/warehouse/index.js';
import { startRedis } from '../test/helpers/redis.js';
import { startRedisCluster } from '../test/helpers/redis-cluster.js';
import { cpuSeconds, SHEBANG_FLAGS } from './measure.js';

// The sync runs in this process: run it with the Node flags bin/fsql.js's shebang gives the CLI.
if (SHEBANG_FLAGS.some((f) => !process.execArgv.includes(f))) {
  const child = spawnSync(process.execPath, [...process.execArgv, ...SHEBANG_FLAGS, process.argv[1], ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(child.status ?? 1);
}

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const sizes = (fallback: string) => flag('entities', fallback).split(',').map(Number);
const which = flag('store', 'both');
/** entities of the run in progress */
let N = 0;
const chunkRows = args.includes('--chunk') ? Number(flag('chunk', '5000')) : undefined;
const inflight = args.includes('--inflight') ? Number(flag('inflight', '4')) : undefined;
const MB = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const perRow = (cpuSeconds: number, rows: number) => `${((cpuSeconds / rows) * 1e6).toFixed(2)} µs`;
const rate = (n: number, s: number) => `${Math.round(n / s).toLocaleString('en-US')}/s`;

function project(dir: string, onlineStore: string): void {
  const base = Timestamp.fromMillis(Date.now() - 86400_000).toSqlText();
  mkdirSync(join(dir, 'models'), { recursive: true });
  writeFileSync(join(dir, 'fsql_project.yml'), 'name: bench\n');
  writeFileSync(
    join(dir, 'profiles.yml'),
    `bench:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: target/bench.duckdb\n      threads: 2\n      online_store: ${onlineStore}\n`,
  );
  writeFileSync(join(dir, 'models', 'entities.yml'), 'entities:\n  - name: user\n    join_keys: [user_id]\n');
  writeFileSync(
    join(dir, 'models', 'user_features.sql'),
    `{{ config(entities=['user'], timestamp='event_ts', ttl='30d') }}
select
  'u_' || i as user_id,
  timestamp '${base}' + to_seconds(i % 86400) as event_ts,
  i as f_count, (i * 7) % 1000 as f_bucket, i % 97 as f_mod, i * 1000003 as f_big,
  cast(i * 0.5 as double) as f_half, (i % 1000) / 7.0 as f_ratio, sqrt(i) as f_sqrt, ln(i + 1) as f_log,
  i % 2 = 0 as f_even, 'segment_' || (i % 50) as f_segment
from range(${N}) t(i)
`,
  );
}

interface Measured {
  seconds: number;
  rows: number;
  peakRss: number;
  samples: string[];
  /** CPU time of this process during the sync (user + system), seconds */
  cpu: number;
}

async function measureSync(dir: string): Promise<Measured> {
  const p = loadProject({ projectDir: dir });
  const log = new Logger('text', true);
  const wh = await openWarehouse(p);
  const store = await openOnlineStore(p);
  try {
    let peak = process.memoryUsage().rss;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
    const samples: string[] = [];
    let nextMark = 0.2;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const [r] = await syncViews(p, wh, store, log, {
      chunkRows,
      inflight,
      onProgress: (_v, read) => {
        if (read >= nextMark * N) {
          samples.push(`${Math.round((read / N) * 100)}%: ${MB(process.memoryUsage().rss)} (JS heap ${MB(process.memoryUsage().heapUsed)})`);
          nextMark += 0.2;
        }
      },
    });
    const seconds = (performance.now() - t0) / 1000;
    const c1 = process.cpuUsage(c0);
    clearInterval(sampler);
    if (r.status !== 'success') throw new Error(r.message);
    return { seconds, rows: r.rowsRead, peakRss: Math.max(peak, process.resourceUsage().maxRSS * 1024), samples, cpu: (c1.user + c1.system) / 1e6 };
  } finally {
    await store.close();
    await wh.close();
  }
}

async function build(dir: string): Promise<void> {
  const p = loadProject({ projectDir: dir });
  const wh = await openWarehouse(p);
  try {
    const t0 = performance.now();
    const res = await runViews(p, wh, new Logger('text', true));
    if (res.results[0].status !== 'success') throw new Error(res.results[0].message);
    console.log(`  offline table: ${N.toLocaleString('en-US')} rows built in ${((performance.now() - t0) / 1000).toFixed(1)}s`);
  } finally {
    await wh.close();
  }
}

async function benchRedis(): Promise<void> {
  const redis = await startRedis();
  const dir = join(mkdtempSync(join(tmpdir(), 'fsql-bench-')), 'bench');
  try {
    console.log(`Redis (redis-server on 127.0.0.1:${redis.port}):`);
    project(dir, `{type: redis, url: "redis://127.0.0.1:${redis.port}"}`);
    await build(dir);
    const benchmark = (...command: string[]) => {
      const out = spawnSync('redis-benchmark', ['-p', String(redis.port), '-P', '100', '-n', String(N), '-q', ...command], { encoding: 'utf8' }).stdout;
      spawnSync('redis-cli', ['-p', String(redis.port), 'flushall']);
      return Number(/([\d.]+) requests per second/.exec(out.replace(/\r/g, '\n'))?.[1] ?? NaN);
    };
    const ceilingRps = benchmark('-t', 'hset');
    // What fsql sends, from Redis's own client: SET of a new key as long as fsql's, a value of the
    // stored row's length, PXAT and NX; the upper bound of any client on this machine today.
    const value = 'x'.repeat(176);
    const setRps = benchmark('-r', '100000000000', 'SET', 'fsql:bench:dev:r:user_features:{user_id=__rand_int__}', value, 'PXAT', String(Date.now() + 86400_000), 'NX');
    const r0 = cpuSeconds([redis.process.pid!]);
    const m = await measureSync(dir);
    const redisCpu = cpuSeconds([redis.process.pid!]) - r0;
    const mem = /used_memory_human:(\S+)/.exec(spawnSync('redis-cli', ['-p', String(redis.port), 'info', 'memory'], { encoding: 'utf8' }).stdout)?.[1];
    const rps = m.rows / m.seconds;
    console.log(`  fsql sync:        ${m.rows.toLocaleString('en-US')} entity rows in ${m.seconds.toFixed(2)}s = ${rate(m.rows, m.seconds)}; peak RSS ${MB(m.peakRss)}; redis used_memory ${mem}`);
    console.log(`  RSS as it goes:   ${m.samples.join(', ')}`);
    console.log(`  CPU per row:      fsql ${perRow(m.cpu, m.rows)}, redis-server ${perRow(redisCpu, m.rows)} (CPU time varies less than wall time with the other work on the 2 cores)`);
    console.log(`  ceiling:          redis-benchmark -P 100 -t hset: ${rate(ceilingRps, 1)} (one small field per command)`);
    console.log(`  ratio:            fsql sync / ceiling = ${(rps / ceilingRps).toFixed(2)}`);
    console.log(`  Redis's own cost: redis-benchmark -P 100 of fsql's command (SET <new key> <176 bytes> PXAT <t> NX): ${rate(setRps, 1)}; fsql sync / that = ${(rps / setRps).toFixed(2)}`);
  } finally {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchCluster(): Promise<void> {
  const cluster = await startRedisCluster(3);
  if (typeof cluster === 'string') {
    console.log(`Redis Cluster: skipped (${cluster})`);
    return;
  }
  const dir = join(mkdtempSync(join(tmpdir(), 'fsql-bench-')), 'bench');
  try {
    console.log(`Redis Cluster (3 primaries on 127.0.0.1:${cluster.ports.join(', ')}):`);
    project(dir, `{type: redis, url: "${cluster.url}", cluster: true}`);
    await build(dir);
    const m = await measureSync(dir);
    console.log(`  fsql sync:        ${m.rows.toLocaleString('en-US')} entity rows in ${m.seconds.toFixed(2)}s = ${rate(m.rows, m.seconds)}; peak RSS ${MB(m.peakRss)}`);
    console.log(`  RSS as it goes:   ${m.samples.join(', ')}`);
    console.log(`  CPU per row:      fsql ${perRow(m.cpu, m.rows)}`);
  } finally {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchSqlite(): Promise<void> {
  const dir = join(mkdtempSync(join(tmpdir(), 'fsql-bench-')), 'bench');
  try {
    console.log('SQLite (WAL file):');
    project(dir, '{type: sqlite, path: target/online.sqlite}');
    await build(dir);
    const m = await measureSync(dir);
    const base = await plainSqliteBaseline(dir);
    const rps = m.rows / m.seconds;
    console.log(`  fsql sync:        ${m.rows.toLocaleString('en-US')} entity rows in ${m.seconds.toFixed(2)}s = ${rate(m.rows, m.seconds)}; peak RSS ${MB(m.peakRss)}`);
    console.log(`  RSS as it goes:   ${m.samples.join(', ')}`);
    console.log(`  CPU per row:      fsql ${perRow(m.cpu, m.rows)}`);
    console.log(`  baseline:         plain INSERT OR REPLACE of the same rows from the same stream: ${rate(base.rows, base.seconds)}`);
    console.log(`  ratio:            fsql sync / baseline = ${(rps / (base.rows / base.seconds)).toFixed(2)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The hand-written floor: stream the table, JSON each row, INSERT OR REPLACE in 5,000-row transactions. */
async function plainSqliteBaseline(dir: string): Promise<{ rows: number; seconds: number }> {
  const p = loadProject({ projectDir: dir });
  const wh = await openWarehouse(p);
  const db = new Database(join(dir, 'target', 'baseline.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('cache_size = -65536');
  db.exec('create table kv (k text primary key, ts integer, v text) without rowid');
  const insert = db.prepare('insert or replace into kv (k, ts, v) values (?, ?, ?)');
  const tx = db.transaction((rows: Record<string, unknown>[]) => {
    for (const r of rows) insert.run(r.user_id as string, (r.event_ts as Timestamp).micros, JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
  });
  try {
    const t0 = performance.now();
    let rows = 0;
    for await (const chunk of wh.stream('select * from user_features', { chunkRows: 5000 })) {
      tx(chunk);
      rows += chunk.length;
    }
    return { rows, seconds: (performance.now() - t0) / 1000 };
  } finally {
    db.close();
    await wh.close();
  }
}

console.log('bench/sync: entities x 10 features (4 int64, 4 float64, 1 boolean, 1 string), DuckDB -> online store');
console.log(`machine: ${(await import('node:os')).cpus().length} cores (shared with other work: figures vary run to run)`);
const runs: [string, () => Promise<void>, string][] = [
  ['redis', benchRedis, '1000000'],
  ['cluster', benchCluster, '1000000'],
  ['sqlite', benchSqlite, '800000,2500000'],
];
for (const [store, bench, fallback] of runs) {
  if (!(which === store || which === 'all' || (which === 'both' && store !== 'cluster'))) continue;
  for (const n of sizes(fallback)) {
    N = n;
    console.log(`\n${N.toLocaleString('en-US')} entities`);
    await bench();
  }
}
