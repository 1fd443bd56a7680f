/**
 * How fsql reaches a Redis server: everything read from the online_store url, once, for every
 * connection (single server and cluster nodes alike).
 *
 *   redis://[user:password@]host:port[/db][?socket_timeout=1&socket_connect_timeout=5]
 *   rediss://host:port?ssl_ca_certs=/etc/ca.pem&ssl_certfile=/etc/client.pem&ssl_keyfile=/etc/client.key
 *
 * The query parameters are redis-py's names for the same settings (seconds, file paths), so a URL
 * that works with redis-py's `from_url` works here.
 */
import { readFileSync } from 'node:fs';
import { OnlineStoreError } from '../../errors.js';
import { safeUrl } from '../../secrets.js';

export interface TlsFiles {
  /** PEM contents, read once at open */
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

export interface RedisOptions {
  host: string;
  port: number;
  /** set for rediss:// */
  tls?: TlsFiles;
  username?: string;
  password?: string;
  db: number;
  /** how long opening a connection (TCP, TLS, AUTH, SELECT) may take */
  connectTimeoutMs: number;
  /** how long Redis may leave a sent command without any reply before the connection is dropped */
  commandTimeoutMs: number;
  /** TCP keepalive: idle time before the first probe */
  keepAliveMs: number;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
export const DEFAULT_COMMAND_TIMEOUT_MS = 10_000;
export const KEEPALIVE_MS = 10_000;

const QUERY_KEYS = ['socket_timeout', 'socket_connect_timeout', 'ssl_ca_certs', 'ssl_certfile', 'ssl_keyfile'];

/** Settings a caller imposes over the URL's (serve's store_timeout). */
export interface TimeoutOverrides {
  commandTimeoutMs?: number;
  connectTimeoutMs?: number;
}

export function parseRedisUrl(text: string, overrides: TimeoutOverrides = {}): RedisOptions {
  const where = `online_store url ${safeUrl(text)}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new OnlineStoreError(`${where} is not a URL; write redis://[:password@]host:port[/db] (rediss:// for TLS).`);
  }
  const q = url.searchParams;
  for (const k of q.keys()) {
    if (!QUERY_KEYS.includes(k)) throw new OnlineStoreError(`${where}: unknown parameter '${k}'; it takes ${QUERY_KEYS.join(', ')}.`);
  }
  const seconds = (name: string): number | undefined => {
    const v = q.get(name);
    if (v === null) return undefined;
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new OnlineStoreError(`${where}: ${name} must be a number of seconds above 0, not '${v}'.`);
    return Math.round(n * 1000);
  };
  const file = (name: string): Buffer | undefined => {
    const path = q.get(name);
    if (path === null) return undefined;
    try {
      return readFileSync(path);
    } catch (e) {
      throw new OnlineStoreError(`${where}: cannot read ${name} file ${path}: ${(e as Error).message}`);
    }
  };
  const secure = url.protocol === 'rediss:';
  const tlsNames = ['ssl_ca_certs', 'ssl_certfile', 'ssl_keyfile'].filter((k) => q.has(k));
  if (!secure && tlsNames.length > 0) throw new OnlineStoreError(`${where}: ${tlsNames.join(', ')} need a rediss:// url (TLS).`);
  if (q.has('ssl_certfile') !== q.has('ssl_keyfile')) throw new OnlineStoreError(`${where}: a client certificate needs both ssl_certfile and ssl_keyfile.`);
  const path = url.pathname.length > 1 ? url.pathname.slice(1) : '0';
  const db = Number(path);
  if (!/^\d+$/.test(path) || !Number.isSafeInteger(db)) throw new OnlineStoreError(`${where}: the path must be a database number such as /0.`);
  return {
    host: url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: Number(url.port || 6379),
    tls: secure ? { ca: file('ssl_ca_certs'), cert: file('ssl_certfile'), key: file('ssl_keyfile') } : undefined,
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db,
    connectTimeoutMs: overrides.connectTimeoutMs ?? seconds('socket_connect_timeout') ?? DEFAULT_CONNECT_TIMEOUT_MS,
    commandTimeoutMs: overrides.commandTimeoutMs ?? seconds('socket_timeout') ?? DEFAULT_COMMAND_TIMEOUT_MS,
    keepAliveMs: KEEPALIVE_MS,
  };
}
