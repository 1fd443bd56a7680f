/** Real online stores for tests of the layers above them: a fresh SQLite file, or a fresh namespace on a redis-server the test started. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/online/open.js';
import type { OnlineStore } from '../../src/online/store.js';

export type StoreKind = 'sqlite' | 'redis';

let opened = 0;

/** A store no other test shares: its own SQLite file, or its own namespace (target) in Redis. */
export function freshStore(kind: StoreKind, redisUrl?: string): Promise<OnlineStore> {
  const ns = { project: 'fraud_features', target: `test${++opened}` };
  if (kind === 'sqlite') return openStore({ type: 'sqlite', path: join(mkdtempSync(join(tmpdir(), 'fsql-online-')), 'online.sqlite') }, ns, { purgeIntervalMs: 0 });
  if (!redisUrl) throw new Error('a Redis store needs the URL of a redis-server');
  return openStore({ type: 'redis', url: redisUrl }, ns);
}
