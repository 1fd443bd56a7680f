/**
 * `fsql serve --workers N`: N processes on one port with node:cluster. The primary only forks,
 * restarts workers that die, adds up metrics, and stops everything on SIGINT/SIGTERM; each worker
 * loads its own catalogue and store connection once and serves. GET /metrics on any worker asks
 * the primary, which collects every worker's snapshot, so a scrape sees the whole port.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../log.js';
import { mergeSnapshots, type MetricsSnapshot } from './metrics.js';

type Message =
  | { fsql: 'ready'; address: string }
  | { fsql: 'failed'; message: string }
  | { fsql: 'metrics-request'; id: number }
  | { fsql: 'metrics-collect'; id: number }
  | { fsql: 'metrics-snapshot'; id: number; snap: MetricsSnapshot }
  | { fsql: 'metrics-result'; id: number; snap: MetricsSnapshot };

function isMessage(m: unknown): m is Message {
  return typeof m === 'object' && m !== null && typeof (m as { fsql?: unknown }).fsql === 'string';
}

export const isClusterWorker = (): boolean => cluster.isWorker;

/** Runs in the primary: forks `workers` copies of this same command and supervises them until a signal. */
export function superviseWorkers(workers: number, log: Logger): Promise<void> {
  return new Promise((resolve, reject) => {
    let stopping = false;
    let ready = 0;
    let failures = 0;
    /** metrics collections in progress: who asked (and under which id), what has arrived */
    const pending = new Map<number, { from: Worker; replyId: number; snaps: MetricsSnapshot[]; expected: number; timer: NodeJS.Timeout }>();
    let nextId = 1;

    const finishCollect = (id: number) => {
      const p = pending.get(id);
      if (!p) return;
      pending.delete(id);
      clearTimeout(p.timer);
      if (p.from.isConnected()) p.from.send({ fsql: 'metrics-result', id: p.replyId, snap: mergeSnapshots(p.snaps) } satisfies Message);
    };

    const onMessage = (worker: Worker, m: unknown) => {
      if (!isMessage(m)) return;
      if (m.fsql === 'ready') {
        ready++;
        if (ready === workers) log.info(`${workers} workers serving on ${m.address}`);
      } else if (m.fsql === 'failed') {
        stopping = true;
        for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
        reject(new Error(m.message));
      } else if (m.fsql === 'metrics-request') {
        const id = nextId++;
        const alive = Object.values(cluster.workers ?? {}).filter((w): w is Worker => Boolean(w?.isConnected()));
        pending.set(id, { from: worker, replyId: m.id, snaps: [], expected: alive.length, timer: setTimeout(() => finishCollect(id), 1000) });
        for (const w of alive) w.send({ fsql: 'metrics-collect', id } satisfies Message);
      } else if (m.fsql === 'metrics-snapshot') {
        const p = pending.get(m.id);
        if (!p) return;
        p.snaps.push(m.snap);
        if (p.snaps.length >= p.expected) finishCollect(m.id);
      }
    };

    const fork = () => {
      const w = cluster.fork();
      w.on('message', (m) => onMessage(w, m));
    };

    cluster.on('exit', (worker, code, signal) => {
      if (stopping) {
        if (Object.keys(cluster.workers ?? {}).length === 0) resolve();
        return;
      }
      failures++;
      log.warn(`worker ${worker.process.pid} exited (${signal ?? `code ${code}`}); starting another`);
      if (failures > workers * 5) {
        stopping = true;
        reject(new Error('workers keep exiting; see the messages above'));
        return;
      }
      setTimeout(fork, Math.min(5000, 100 * failures));
    });

    const stop = () => {
      if (stopping) return;
      stopping = true;
      log.info('stopping workers');
      const alive = Object.values(cluster.workers ?? {});
      if (alive.length === 0) resolve();
      for (const w of alive) w?.kill('SIGTERM');
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    for (let i = 0; i < workers; i++) fork();
  });
}

/** Runs in a worker: the metrics of every worker, through the primary (own snapshot when alone). */
export function workerChannel(own: () => MetricsSnapshot): { clusterMetrics: () => Promise<MetricsSnapshot>; ready(address: string): void; failed(message: string): void } {
  const waiting = new Map<number, (s: MetricsSnapshot) => void>();
  let nextId = 1;
  process.on('message', (m: unknown) => {
    if (!isMessage(m)) return;
    if (m.fsql === 'metrics-collect') process.send?.({ fsql: 'metrics-snapshot', id: m.id, snap: own() } satisfies Message);
    else if (m.fsql === 'metrics-result') {
      const done = waiting.get(m.id);
      waiting.delete(m.id);
      done?.(m.snap);
    }
  });
  return {
    clusterMetrics: () =>
      new Promise((resolve) => {
        const id = nextId++;
        const timer = setTimeout(() => {
          waiting.delete(id);
          resolve(own());
        }, 2000);
        waiting.set(id, (snap) => {
          clearTimeout(timer);
          resolve(snap);
        });
        process.send?.({ fsql: 'metrics-request', id } satisfies Message);
      }),
    ready: (address) => process.send?.({ fsql: 'ready', address } satisfies Message),
    failed: (message) => process.send?.({ fsql: 'failed', message } satisfies Message),
  };
}
