/** Real online stores for tests of the layers above them: a fresh SQLite file, or a fresh namespace on a redis-server the test started. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/online/open.js';
import type { OnlineStore } from '../../src/online/store.js';

export type StoreKind = 'sqlite' | 'redis';

let opened = 0;

/** A store no other test shares: its own SQLite file, or its own namespace (target) in Redis. */
export async function freshStore(kind: StoreKind, redisUrl?: string): Promise<OnlineStore> {
  return (await freshStores(kind, redisUrl, 1))[0];
}

/** `count` handles on one fresh store (as separate servers would open it): one SQLite file, or one Redis namespace. */
export function freshStores(kind: StoreKind, redisUrl: string | undefined, count: number): Promise<OnlineStore[]> {
  const ns = { project: 'fraud_features', target: `test${++opened}` };
  const path = kind === 'sqlite' ? join(mkdtempSync(join(tmpdir(), 'fsql-online-')), 'online.sqlite') : undefined;
  if (kind === 'redis' && !redisUrl) throw new Error('a Redis store needs the URL of a redis-server');
  return Promise.all(Array.from({ length: count }, () => (path ? openStore({ type: 'sqlite', path }, ns, { purgeIntervalMs: 0 }) : openStore({ type: 'redis', url: redisUrl! }, ns))));
}
