/**
 * bench/push-aggregate: `/push` of raw events into an aggregate view (SPEC section 12), against
 * `/push` of the same number of rows into a plain view with the same features, in the same run on
 * the same private redis-server and fsql server.
 *
 *   npm run build && node dist/bench/push-aggregate.js [rows] [users] [--batches 200] [--concurrency 4]
 *
 * Data: `rows` transactions of `users` users over the 30 days up to now; views `user_agg` (windows
 * 1h, 1d, 7d, 30d of count, sum, avg, max, and count_distinct over 30d; bench/user-agg-view.ts) and
 * `user_plain` (one row per user, 17 features). After fsql run and fsql sync, batches of 1,000
 * events of random users, timed after the sync, are pushed with `concurrency` requests in flight.
 * The aggregate push appends each entity's events to its pushed-event log, folded into its state
 * once longer than 4 KB (fewer users, say 1,000, make every entity fold); the plain push writes
 * rows under the monotonic rule. Target: at least 50,000 events/s.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom } from '../src/seeded-random.js';
import { startRedis } from '../test/helpers/redis.js';
import { rawRequest } from '../test/helpers/serve.js';
import { numberFlag, positionalArgs, runFsql, startServe, THREADS, withDuckDb } from './measure.js';
import { benchProject } from './bench-project.js';
import { transactionsSelect, userAggView } from './user-agg-view.js';

const positional = positionalArgs();
const ROWS = Number(positional[0] ?? 1_000_000);
const USERS = Number(positional[1] ?? 100_000);
const BATCHES = numberFlag('--batches', 200);
const CONCURRENCY = numberFlag('--concurrency', 4);
const BATCH = 1000;
const PLAIN_FEATURES = ['count_1h', 'count_1d', 'count_7d', 'count_30d', 'amount_sum_30d', 'amount_avg_30d', 'amount_max_30d', 'merchant_id_count_distinct_30d'];

function makeProject(redisUrl: string): string {
  return benchProject(
    {
      'models/user_agg.sql': userAggView('1h'),
      'models/user_plain.sql': `{{ config(entities=['user'], timestamp='ts') }}
select user_id, max(ts) as ts, count(*) as count_1h, count(*) as count_1d, count(*) as count_7d, count(*) as count_30d,
  sum(amount) as amount_sum_30d, avg(amount) as amount_avg_30d, max(amount) as amount_max_30d, count(distinct merchant_id) as merchant_id_count_distinct_30d
from {{ source('raw', 'transactions') }}
group by user_id
`,
    },
    { onlineStore: `{type: redis, url: '${redisUrl}'}`, yml: 'feature_views:\n  - name: user_agg\n    push: true\n  - name: user_plain\n    push: true\n' },
  );
}

/** `count` batches of 1,000 rows of random users, each at a time after `after` (ms). */
function batches(count: number, after: number, body: (users: string[], ts: string[], i: number) => unknown): string[] {
  const random = seededRandom(7);
  return Array.from({ length: count }, (_, b) => {
    const users = Array.from({ length: BATCH }, () => `u_${Math.floor(random() * USERS)}`);
    const ts = users.map((_u, i) => new Date(after + 1 + ((b * BATCH + i) % 1000)).toISOString());
    return JSON.stringify(body(users, ts, b));
  });
}

async function pushAll(url: string, bodies: string[]): Promise<number> {
  const t0 = process.hrtime.bigint();
  let next = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const r = await rawRequest(url, 'POST', '/push', bodies[next++], { 'content-type': 'application/json' });
      if (r.status !== 200) throw new Error(`push answered ${r.status}: ${r.text.slice(0, 300)}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const redis = await startRedis();
try {
  const dir = makeProject(redis.url);
  mkdirSync(join(dir, 'target'), { recursive: true });
  console.log(`bench/push-aggregate: ${ROWS.toLocaleString('en')} transactions of ${USERS.toLocaleString('en')} users over 30 days; ${BATCHES} batches of ${BATCH} events, ${CONCURRENCY} in flight; ${dir}`);
  await withDuckDb(join(dir, 'target', 'bench.duckdb'), (c) =>
    c.run(`create or replace table transactions as ${transactionsSelect(ROWS, USERS, 'now()::timestamp', -30)}`),
  );
  await runFsql(['run'], dir, [], / in ([\d.]+)s$/m);
  await runFsql(['sync'], dir, [], / in ([\d.]+)s;/m);
  const syncedAt = Date.now();
  const { url, server } = await startServe(dir);
  try {
    const agg = batches(BATCHES, syncedAt, (users, ts, b) => ({
      feature_view: 'user_agg',
      df: { user_id: users, ts, amount: users.map((_u, i) => ((b * BATCH + i) % 997) / 10), merchant_id: users.map((_u, i) => `m_${(b + i) % 1000}`) },
    }));
    const plain = batches(BATCHES, syncedAt, (users, ts, b) => ({
      feature_view: 'user_plain',
      df: { user_id: users, ts, ...Object.fromEntries(PLAIN_FEATURES.map((f) => [f, users.map((_u, i) => (f.includes('avg') || f.includes('sum') || f.includes('max') ? ((b + i) % 997) / 10 : (b + i) % 50))])) },
    }));
    // a warm-up of each, then alternating
    await pushAll(url, agg.slice(0, 5));
    await pushAll(url, plain.slice(0, 5));
    const aggSeconds = await pushAll(url, agg);
    const plainSeconds = await pushAll(url, plain);
    const events = BATCHES * BATCH;
    const aggRate = events / aggSeconds;
    const plainRate = events / plainSeconds;
    console.log(`/push into the aggregate view: ${Math.round(aggRate).toLocaleString('en')} events/s (target >= 50,000/s)`);
    console.log(`/push into the plain view (baseline): ${Math.round(plainRate).toLocaleString('en')} rows/s; aggregate / plain = ${(aggRate / plainRate).toFixed(2)}x`);
  } finally {
    server.kill('SIGTERM');
  }
} finally {
  await redis.stop();
}
