/**
 * bench/on-demand: what an on-demand view of 10 expressions adds to get-features (SPEC section 10).
 *
 *   npm run build && node dist/bench/on-demand.js [--requests 20000] [--repeats 3]
 *
 * Builds the example (fsql run + fsql sync into SQLite) with txn_request and a 10-output on-demand
 * view over user_transaction_stats, served by `fraud_detection` (3 views + the on-demand view),
 * and the same service without it (`fraud_stored`). One in-process server; a keep-alive client in
 * the same process sends the same requests to both services in alternating rounds (8 in flight).
 * Reports per request: CPU time of the process (server and client; the client's share is the same
 * for both but for a slightly longer body) and throughput, and their difference and ratio; and the
 * evaluator alone (evaluateOnDemand over the served rows, 10 expressions) in a tight loop.
 * Targets (issue 15): under 20 µs of CPU added per request, throughput at least 0.9x.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'node:http';
import { openOnlineStore } from '../src/online/open.js';
import { buildCatalog } from '../src/serving/catalog.js';
import { evaluateOnDemand, fetchRows, requestTime, servedRows } from '../src/online/vector.js';
import { loadProject } from '../src/project/load.js';
import { Timestamp } from '../src/values.js';
import { fsql } from '../test/helpers/project.js';
import { addOnDemand } from '../test/helpers/on-demand-project.js';
import { newestEntity, recentEntities, recentExample, startServer } from '../test/helpers/serve.js';
import { median, numberFlag } from './measure.js';

const REQUESTS = numberFlag('--requests', 20000);
const REPEATS = numberFlag('--repeats', 3);

const TEN = `{{ config(materialized='on_demand', inputs=['txn_request', 'user_transaction_stats']) }}
select
  amount / user_transaction_stats.avg_amount_7d as amount_vs_avg_7d,
  amount > 3 * coalesce(user_transaction_stats.max_amount_7d, 0) as exceeds_3x_max_7d,
  case when merchant_category in ('gambling', 'crypto') then 1 else 0 end as risky_category,
  amount - user_transaction_stats.avg_amount_7d as amount_minus_avg_7d,
  round(amount * 100) / 100 as amount_rounded,
  ln(amount + 1) as log_amount,
  user_transaction_stats.txn_count_1d * 7 - user_transaction_stats.txn_count_7d as burst_1d,
  upper(substr(merchant_category, 1, 3)) as category_prefix,
  coalesce(user_transaction_stats.spend_1h, 0) + amount as spend_1h_with_txn,
  not card_present and amount > 500 as large_card_absent
`;

async function main(): Promise<void> {
  const dir = addOnDemand(recentExample(), TEN);
  appendFileSync(join(dir, 'models', 'features.yml'), '  - name: fraud_stored\n    features:\n      - user_transaction_stats\n      - merchant_risk: [risk_score, chargeback_rate]\n      - user_merchant_pair\n    online: true\n');
  for (const args of [['run'], ['sync']]) {
    const r = fsql(['--project-dir', dir, ...args], { cwd: dir });
    if (r.code !== 0) throw new Error(r.stderr);
  }
  const project = loadProject({ projectDir: dir });
  const store = await openOnlineStore(project);
  const srv = await startServer(project, store);
  const entities = recentEntities(dir, 200);
  const port = Number(new URL(srv.url).port);
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const bodies = (service: string, withRequest: boolean) =>
    entities.map((e, i) =>
      JSON.stringify({ params: { feature_service_name: service, join_key_map: e, ...(withRequest ? { request_context_map: { amount: 10 + i, merchant_category: i % 3 ? 'food' : 'crypto', card_present: i % 2 === 0 } } : {}) } }),
    );
  const post = (body: string) =>
    new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/api/v1/feature-service/get-features', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
        res.resume();
        res.on('end', () => resolve());
      });
      req.on('error', reject);
      req.end(body);
    });
  const round = async (list: string[], n: number) => {
    let next = 0;
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < n) await post(list[next++ % list.length]);
    }));
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    return { usPerRequest: (cpu.user + cpu.system) / n, perSecond: n / wall };
  };
  const withOd = bodies('fraud_detection', true);
  const without = bodies('fraud_stored', false);
  await round(withOd, 2000);
  await round(without, 2000);
  const results: { od: { usPerRequest: number; perSecond: number }; base: { usPerRequest: number; perSecond: number } }[] = [];
  for (let r = 0; r < REPEATS; r++) {
    const base = await round(without, REQUESTS);
    const od = await round(withOd, REQUESTS);
    results.push({ od, base });
    console.log(`round ${r + 1}: without ${base.usPerRequest.toFixed(1)} µs CPU/request, ${base.perSecond.toFixed(0)} req/s; with 10 on-demand expressions ${od.usPerRequest.toFixed(1)} µs, ${od.perSecond.toFixed(0)} req/s`);
  }
  const added = median(results.map((x) => x.od.usPerRequest - x.base.usPerRequest));
  const ratio = median(results.map((x) => x.od.perSecond / x.base.perSecond));
  console.log(`median: +${added.toFixed(1)} µs CPU per request (target < 20), throughput ${ratio.toFixed(3)}x (target >= 0.9)`);

  // the evaluator alone, over one entity's served rows
  const plan = buildCatalog(project, await store.getLayouts()).services.get('fraud_detection')!.plan!;
  const e = newestEntity(dir);
  const keys = [plan.joinKeys.map((k) => (e as Record<string, string>)[k.name])];
  const [rows] = await fetchRows(store, plan, keys);
  const served = servedRows(rows, requestTime(plan, Timestamp.fromMillis(Date.now())));
  const req = [250.5, 'crypto', true];
  let sink = 0;
  const N = 200000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) evaluateOnDemand(plan, served, req, (_j, v) => (sink += v === null ? 0 : 1));
  console.log(`evaluator alone: ${(Number(process.hrtime.bigint() - t0) / N / 1000).toFixed(2)} µs per entity for 10 expressions (${sink > 0 ? 'ok' : 'nothing computed'})`);
  agent.destroy();
  await srv.close();
  await store.close();
}

await main();
