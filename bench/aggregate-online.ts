/**
 * bench/aggregate-online: the online half of aggregate views (SPEC section 9), measured against a
 * plain view with the same features in the same run, on the same private redis-server.
 *
 *   npm run build && node dist/bench/aggregate-online.js [rows] [users] [days] [--duration 10] [--rounds 3]
 *
 * Data: `rows` transactions of `users` users over the `days` days up to now, plus one hot user with
 * 1,000 transactions in the last 30 days. Views: `user_agg`, an aggregate view of windows 1h, 1d, 7d,
 * 30d x count, sum, avg, max (16 features) and count_distinct over 30d; `user_plain`, a table view
 * with one row per user and the same 17 feature names and types.
 *  - fsql sync of each view to Redis: entities/s (fsql's own figure) and the aggregate states'
 *    average bytes per entity (targets: >= 100k entities/s; bytes reported);
 *  - fsql serve, get-features for the hot user: p99 at a fixed 1,000 requests/s, and throughput
 *    at 10 connections, aggregate vs plain (targets: p99 < 2 ms; throughput >= 0.5x the plain view's),
 *    with the server's CPU per request at 10 connections (steadier than either on a shared machine).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fixedRate } from './fixed-rate.js';
import { startRedis } from '../test/helpers/redis.js';
import { rawRequest } from '../test/helpers/serve.js';
import { benchProject } from './bench-project.js';
import { transactionsSelect, userAggView } from './user-agg-view.js';
import { loadWithCpu, median, numberFlag, positionalArgs, postLoad, runFsql, startServe, THREADS, withDuckDb } from './measure.js';

const positional = positionalArgs();
const ROWS = Number(positional[0] ?? 10_000_000);
const USERS = Number(positional[1] ?? 100_000);
const DAYS = Number(positional[2] ?? 90);
const DURATION = numberFlag('--duration', 10);
const ROUNDS = numberFlag('--rounds', 3);
const WINDOWS = ['1h', '1d', '7d', '30d'];
const FEATURES: [string, string][] = [
  ...WINDOWS.map((w): [string, string] => [`count_${w}`, 'count(*)']),
  ...['sum', 'avg', 'max'].flatMap((fn) => WINDOWS.map((w): [string, string] => [`amount_${fn}_${w}`, `${fn}(amount)`])),
  ['merchant_id_count_distinct_30d', 'count(distinct merchant_id)'],
];

function makeProject(redisUrl: string): string {
  return benchProject(
    {
      'models/user_agg.sql': userAggView('1h'),
      // the same feature names and types, one row per user (values over all its rows: the shape is what counts)
      'models/user_plain.sql': `{{ config(entities=['user'], timestamp='ts') }}
select user_id, max(ts) as ts, ${FEATURES.map(([name, expr]) => `${expr} as ${name}`).join(', ')}
from {{ source('raw', 'transactions') }}
group by user_id
`,
    },
    { onlineStore: `{type: redis, url: '${redisUrl}'}`, yml: 'feature_services:\n  - name: agg\n    features: [user_agg]\n  - name: plain\n    features: [user_plain]\n' },
  );
}

async function generate(db: string): Promise<void> {
  await withDuckDb(db, async (c) => {
    // every user over DAYS days, and u_hot with 1,000 events in 30 days
    await c.run(`create or replace table transactions as
      ${transactionsSelect(ROWS, USERS, 'now()::timestamp', -DAYS)}
      union all
      select 'u_hot' as user_id, ts, amount, merchant_id from (${transactionsSelect(1000, 1, 'now()::timestamp', -30, 3)})
      `);
  });
}

/** fsql sync of one view: entities, fsql's own seconds, and the NOTE's bytes per entity (aggregate views). */
async function sync(dir: string, view: string): Promise<{ entities: number; seconds: number; bytes?: number }> {
  const r = await runFsql(['sync', '--select', view], dir, [], / in ([\d.]+)s;/m);
  const entities = Number(new RegExp(`OK +${view}: (\\d+) entities read`).exec(r.output)?.[1] ?? NaN);
  const bytes = /(\d+) bytes each on average/.exec(r.output)?.[1];
  return { entities, seconds: r.reported, ...(bytes ? { bytes: Number(bytes) } : {}) };
}

interface Load {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** the server's CPU microseconds per request (throughput runs only) */
  cpuMicros?: number;
}

/** Each figure's median over the rounds. */
function medianLoad(runs: Load[]): Load {
  const mid = (pick: (l: Load) => number) => median(runs.map(pick));
  return { rps: mid((l) => l.rps), p50: mid((l) => l.p50), p99: mid((l) => l.p99), errors: mid((l) => l.errors), cpuMicros: mid((l) => l.cpuMicros ?? NaN) };
}

/** Throughput at 10 connections (autocannon) and the server's (`pid`) CPU per request, or with `rate` latency at that fixed rate (fixed-rate.ts, to the microsecond). */
async function load(url: string, pid: number, service: string, rate?: number): Promise<Load> {
  const body = JSON.stringify({ params: { feature_service_name: service, join_key_map: { user_id: 'u_hot' } } });
  if (rate) {
    await fixedRate(url, '/api/v1/feature-service/get-features', body, rate, 1, 10); // warm-up: JIT, connections
    return fixedRate(url, '/api/v1/feature-service/get-features', body, rate, DURATION, 10);
  }
  return loadWithCpu([pid], DURATION, (duration) => postLoad(`${url}/api/v1/feature-service/get-features`, body, 10, duration));
}

const redis = await startRedis();
try {
  const dir = makeProject(redis.url);
  mkdirSync(join(dir, 'target'), { recursive: true });
  console.log(`bench/aggregate-online: ${ROWS.toLocaleString('en')} transactions, ${USERS.toLocaleString('en')} users over ${DAYS} days up to now, a hot user with 1,000 in 30 days; ${THREADS} threads; ${dir}`);
  await generate(join(dir, 'target', 'bench.duckdb'));
  const run = await runFsql(['run'], dir, [], / in ([\d.]+)s$/m);
  console.log(`fsql run (both views): ${run.seconds.toFixed(2)} s`);

  const plainSync = await sync(dir, 'user_plain');
  const aggSync = await sync(dir, 'user_agg');
  const rate = (s: { entities: number; seconds: number }) => Math.round(s.entities / s.seconds);
  console.log(`fsql sync user_plain (baseline): ${plainSync.entities.toLocaleString('en')} entities in ${plainSync.seconds.toFixed(2)} s = ${rate(plainSync).toLocaleString('en')} entities/s`);
  console.log(`fsql sync user_agg:              ${aggSync.entities.toLocaleString('en')} entities in ${aggSync.seconds.toFixed(2)} s = ${rate(aggSync).toLocaleString('en')} entities/s (target >= 100,000/s); ${aggSync.bytes} bytes per entity on average; aggregate / plain = ${(rate(aggSync) / rate(plainSync)).toFixed(2)}x`);

  const { url, server } = await startServe(dir);
  try {
    const hot = await rawRequest(url, 'POST', '/api/v1/feature-service/get-features', JSON.stringify({ params: { feature_service_name: 'agg', join_key_map: { user_id: 'u_hot' } } }), { 'content-type': 'application/json' });
    console.log(`hot user's aggregate features: ${hot.text.slice(0, 160)}...`);
    // alternating rounds, medians: the machine's other load moves single runs a lot
    const rounds = async (rate?: number) => {
      const agg: Load[] = [];
      const plain: Load[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        agg.push(await load(url, server.pid!, 'agg', rate));
        plain.push(await load(url, server.pid!, 'plain', rate));
      }
      return { agg: medianLoad(agg), plain: medianLoad(plain), errors: [...agg, ...plain].reduce((n, l) => n + l.errors, 0) };
    };
    const fixed = await rounds(1000);
    const ms = (x: number) => x.toFixed(2);
    console.log(`at 1,000 requests/s (median of ${ROUNDS}): aggregate p50 ${ms(fixed.agg.p50)} ms, p99 ${ms(fixed.agg.p99)} ms (target < 2 ms); plain p50 ${ms(fixed.plain.p50)} ms, p99 ${ms(fixed.plain.p99)} ms; errors ${fixed.errors}`);
    const full = await rounds();
    console.log(`throughput at 10 connections (median of ${ROUNDS}): aggregate ${Math.round(full.agg.rps)} req/s, plain ${Math.round(full.plain.rps)} req/s; aggregate / plain = ${(full.agg.rps / full.plain.rps).toFixed(2)}x (target >= 0.5x); errors ${full.errors}`);
    console.log(`server CPU per request at 10 connections (median of ${ROUNDS}): aggregate ${Math.round(full.agg.cpuMicros!)} µs, plain ${Math.round(full.plain.cpuMicros!)} µs; aggregate / plain = ${(full.agg.cpuMicros! / full.plain.cpuMicros!).toFixed(2)}x`);
  } finally {
    server.kill('SIGTERM');
  }
} finally {
  await redis.stop();
}
