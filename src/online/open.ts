/** Opens the online store of the project's target (profiles.yml `online_store:`), namespaced by project and target. */
import { OnlineStoreError } from '../errors.js';
import type { OnlineStoreConfig, Project } from '../project/types.js';
import type { Namespace } from './keys.js';
import type { TimeoutOverrides } from './redis/options.js';
import { RedisStore } from './redis/store.js';
import { SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
import type { OnlineStore } from './store.js';

/** SQLite's options, and the timeouts a caller imposes on Redis (serve: store_timeout). */
export type OpenOptions = SqliteStoreOptions & TimeoutOverrides;

/**
 * SQLite opens (and creates) the file at once; Redis connects on first use, so a server can start
 * while Redis is down and report it on /health. Call `ping()` to fail fast.
 */
export async function openOnlineStore(project: Project, opts: OpenOptions = {}): Promise<OnlineStore> {
  return openStore(project.target.onlineStore, { project: project.name, target: project.target.name }, opts);
}

export async function openStore(config: OnlineStoreConfig, ns: Namespace, opts: OpenOptions = {}): Promise<OnlineStore> {
  switch (config.type) {
    case 'sqlite':
      if (!config.path) throw new OnlineStoreError('sqlite online_store needs path:');
      return SqliteStore.open(config.path, ns, opts);
    case 'redis':
      if (!config.url) throw new OnlineStoreError("redis online_store needs url: 'redis://host:port'");
      return RedisStore.open({ url: config.url, cluster: config.cluster, commandTimeoutMs: opts.commandTimeoutMs, connectTimeoutMs: opts.connectTimeoutMs }, ns);
  }
}

/** Opens the store for `fn` and closes it afterwards, whatever happens. */
export async function withOnlineStore<T>(project: Project, fn: (store: OnlineStore) => Promise<T>, opts: OpenOptions = {}): Promise<T> {
  const store = await openOnlineStore(project, opts);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
