/**
 * bench/feature-log: what feature logging at sample rate 1 costs get-features, against the same
 * server, same process, same Redis data, answering the same service unlogged.
 *
 *   npm run build && node dist/bench/feature-log.js [--duration 5] [--repeats 3]
 *
 * Builds the example project with transactions ending yesterday (fsql run + fsql sync into a
 * private redis-server) and adds `fraud_logged`: exactly fraud_detection's features with
 * `logging: {sample_rate: 1}`. One `fsql serve` answers both services; the rounds alternate
 * between them (unlogged, logged, unlogged, ...) so drift in the shared machine falls on both.
 * Scenarios: get-features for one entity at 10 connections, get-features-batch of 50 entities at
 * 10 connections. Reports requests/s and the server's CPU time per request (from /proc), medians
 * of the rounds, and the logged/unlogged ratios. Target: logging costs at most 10% of throughput.
 */
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis } from '../test/helpers/redis.js';
import { recentEntities } from '../test/helpers/serve.js';
import { syncedExample } from './bench-project.js';
import { loadWithCpu, median, numberFlag, postLoad, startServe } from './measure.js';


interface Figures {
  rps: number;
  requests: number;
  cpuMicros: number;
}

function measure(url: string, body: string, seconds: number, pid: number): Promise<Figures> {
  return loadWithCpu([pid], seconds, async (duration) => {
    const r = await postLoad(url, body, 10, duration);
    if (r.errors > 0) throw new Error(`${r.errors} failed requests`);
    return r;
  });
}


async function main(): Promise<void> {
  const seconds = numberFlag('--duration', 5);
  const repeats = numberFlag('--repeats', 3);
  const redis = await startRedis();
  const logDir = mkdtempSync(join(tmpdir(), 'fsql-bench-log-'));
  let server: ChildProcess | undefined;
  try {
    // exactly fraud_detection's features (merchant_risk: two of its four), so both answer the same
    const dir = await syncedExample(redis.url, (d) => appendFileSync(join(d, 'models', 'features.yml'), [
      '  - name: fraud_logged',
      '    features:',
      '      - user_transaction_stats',
      '      - merchant_risk: [risk_score, chargeback_rate]',
      '      - user_merchant_pair',
      '    logging: {sample_rate: 1}',
      '',
    ].join('\n')));
    const started = await startServe(dir, ['--target', 'redis', '--log-dir', logDir]);
    server = started.server;
    const url = started.url;
    const entities = recentEntities(dir, 50);
    const single = (service: string) => JSON.stringify({ params: { feature_service_name: service, join_key_map: entities[0] } });
    const batch = (service: string) => JSON.stringify({ params: { feature_service_name: service, request_data: entities.map((e) => ({ join_key_map: e })) } });
    // an honest baseline: both services answer the same features
    const answers = await Promise.all(['fraud_detection', 'fraud_logged'].map(async (service) => {
      const r = await fetch(`${url}/api/v1/feature-service/get-features`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: single(service) });
      return JSON.stringify(((await r.json()) as { result: unknown }).result);
    }));
    if (answers[0] !== answers[1]) throw new Error(`fraud_logged answers otherwise than fraud_detection: ${answers.join(' vs ')}`);
    console.log(`feature logging at sample rate 1 vs off: ${repeats} alternating rounds of ${seconds}s, 10 connections, Redis store`);
    for (const [name, path, body] of [
      ['get-features, 1 entity', '/api/v1/feature-service/get-features', single],
      ['get-features-batch, 50 entities', '/api/v1/feature-service/get-features-batch', batch],
    ] as const) {
      const off: Figures[] = [];
      const on: Figures[] = [];
      for (let i = 0; i < repeats; i++) {
        off.push(await measure(url + path, body('fraud_detection'), seconds, server.pid!));
        on.push(await measure(url + path, body('fraud_logged'), seconds, server.pid!));
      }
      const [rOff, rOn] = [median(off.map((f) => f.rps)), median(on.map((f) => f.rps))];
      const [cOff, cOn] = [median(off.map((f) => f.cpuMicros)), median(on.map((f) => f.cpuMicros))];
      console.log(`${name}: off ${Math.round(rOff)} req/s (${cOff.toFixed(0)} µs CPU/req), logged ${Math.round(rOn)} req/s (${cOn.toFixed(0)} µs CPU/req): throughput ratio ${(rOn / rOff).toFixed(3)}, CPU ratio ${(cOn / cOff).toFixed(3)} (target: throughput ratio >= 0.90)`);
    }
  } finally {
    if (server && server.exitCode === null) {
      // the server writes what it queued as it stops: the log folder goes once it has exited
      const exited = new Promise((resolve) => server!.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
    await redis.stop();
    rmSync(logDir, { recursive: true, force: true });
  }
}

await main();
