/**
 * A separate process that writes rows into an online store, for tests of racing writers.
 * Usage: node online-writer.js '<json WriterJob>'. Rows come from `rowsFor(job)`, so the test can
 * compute what the store must hold at the end.
 */
import { openStore } from '../../src/online/open.js';
import type { OnlineRow, ViewLayout } from '../../src/online/store.js';
import type { OnlineStoreConfig } from '../../src/project/types.js';
import { Timestamp } from '../../src/values.js';
import { seededRandom } from '../../src/seeded-random.js';

export interface WriterJob {
  config: OnlineStoreConfig;
  ns: { project: string; target: string };
  layout: ViewLayout;
  /** writer number: part of every timestamp, so no two writers write the same (entity, ts) */
  writer: number;
  writers: number;
  entities: number;
  rowsPerEntity: number;
  seed: number;
  baseMicros: string;
}

/** Deterministic pseudo-random numbers. */
export const random = seededRandom;

/** This writer's rows, shuffled: feature `who` names the writer, `step` the row's timestamp step. */
export function rowsFor(job: WriterJob): OnlineRow[] {
  const rnd = random(job.seed);
  const base = BigInt(job.baseMicros);
  const rows: OnlineRow[] = [];
  for (let e = 0; e < job.entities; e++) {
    for (let r = 0; r < job.rowsPerEntity; r++) {
      const step = Math.floor(rnd() * 1000) * job.writers + job.writer;
      rows.push({ key: [`e${e}`], ts: new Timestamp(base + BigInt(step) * 1000n), values: { who: BigInt(job.writer), step: BigInt(step) } });
    }
  }
  for (let i = rows.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [rows[i], rows[j]] = [rows[j], rows[i]];
  }
  return rows;
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]) as WriterJob;
  const store = await openStore(job.config, job.ns, { purgeIntervalMs: 0 });
  const rows = rowsFor(job);
  const rnd = random(job.seed + 1);
  let written = 0;
  for (let i = 0; i < rows.length; ) {
    const size = 1 + Math.floor(rnd() * 300);
    written += (await store.write(job.layout, rows.slice(i, i + size))).written;
    i += size;
  }
  await store.close();
  process.stdout.write(JSON.stringify({ written }));
}

if (process.argv[1]?.endsWith('online-writer.js')) await main();
