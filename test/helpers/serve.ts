/** Starts a FeatureServer on a free loopback port for a test, with an HTTP client for it. */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Logger } from '../../src/log.js';
import type { OnlineStore, ViewLayout } from '../../src/online/store.js';
import type { Project } from '../../src/project/types.js';
import { EXAMPLE_DATA, writeExampleData } from '../../src/example/transactions.js';
import { FeatureServer, type ServerOptions } from '../../src/serving/server.js';
import { copyExample, FSQL_BIN } from './project.js';

export interface TestServer {
  url: string;
  server: FeatureServer;
  logs: string[];
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<HttpReply>;
  get(path: string, headers?: Record<string, string>): Promise<HttpReply>;
  /** a raw request: any method, any body bytes */
  raw(method: string, path: string, body?: Buffer | string, headers?: Record<string, string>): Promise<HttpReply>;
  close(): Promise<void>;
}

export interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

export type TestServerOptions = Partial<Pick<ServerOptions, 'auth' | 'authCacheMs' | 'clock' | 'cache' | 'featureLog'>>;

export async function startServer(project: Project, store: OnlineStore, opts: TestServerOptions = {}): Promise<TestServer> {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const server = await FeatureServer.create({ ...opts, project, store, log: new Logger('text', false, sink), auth: opts.auth ?? false });
  const addr = await server.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${addr.port}`;
  const raw = (method: string, path: string, body?: Buffer | string, headers: Record<string, string> = {}) => rawRequest(url, method, path, body, headers);
  return {
    url,
    server,
    logs,
    raw,
    post: (path, body, headers = {}) => raw('POST', path, typeof body === 'string' ? body : JSON.stringify(body), { 'content-type': 'application/json', ...headers }),
    get: (path, headers = {}) => raw('GET', path, undefined, headers),
    close: () => server.close(),
  };
}

export function rawRequest(url: string, method: string, path: string, body?: Buffer | string, headers: Record<string, string> = {}): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url);
    const req = httpRequest({ hostname, port, path, method, headers: body === undefined ? headers : { 'content-length': String(Buffer.byteLength(body)), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** The layouts of the example project's three views, as fsql sync records them. */
export const EXAMPLE_LAYOUTS: ViewLayout[] = [
  {
    view: 'user_transaction_stats',
    joinKeys: [{ name: 'user_id', type: { type: 'string' } }],
    features: [
      ['txn_count_1h', 'int64'], ['spend_1h', 'float64'], ['txn_count_1d', 'int64'], ['spend_1d', 'float64'], ['txn_count_7d', 'int64'],
      ['spend_7d', 'float64'], ['avg_amount_7d', 'float64'], ['max_amount_7d', 'float64'], ['large_txn_count_1d', 'int64'],
    ].map(([name, type]) => ({ name, type: { type: type as 'int64' | 'float64' } })),
    ttlSeconds: 7 * 86400,
  },
  {
    view: 'merchant_risk',
    joinKeys: [{ name: 'merchant_id', type: { type: 'string' } }],
    features: [['txn_count_30d', 'int64'], ['volume_30d', 'float64'], ['chargeback_rate', 'float64'], ['risk_score', 'float64']].map(([name, type]) => ({ name, type: { type: type as 'int64' | 'float64' } })),
    ttlSeconds: 3 * 86400,
  },
  {
    view: 'user_merchant_pair',
    joinKeys: [{ name: 'user_id', type: { type: 'string' } }, { name: 'merchant_id', type: { type: 'string' } }],
    features: [['pair_txn_count_30d', 'int64'], ['pair_spend_30d', 'float64']].map(([name, type]) => ({ name, type: { type: type as 'int64' | 'float64' } })),
    ttlSeconds: 30 * 86400,
  },
];

/**
 * A copy of the example project whose transactions end yesterday (the repository's data is from
 * 2024, long past every TTL, so nothing would be served), with a `redis` target beside `dev`
 * (SQLite) when a Redis URL is given. Call fsql run / sync on it. By default its windows are the
 * hand-written ones (test/fixtures/hand-written-windows: table rows the serving tests write and
 * read by hand); `handWrittenWindows: false` keeps the example's aggregate views.
 */
export function recentExample(redisUrl?: string, opts: { handWrittenWindows?: boolean } = { handWrittenWindows: true }): string {
  const dir = copyExample(opts);
  const start = new Date(Date.now() - 21 * 86400_000).toISOString().slice(0, 10);
  writeExampleData(join(dir, 'data'), { ...EXAMPLE_DATA, start, days: 20 });
  const output = (name: string, store: string) => `    ${name}:\n      type: duckdb\n      path: target/dev.duckdb\n      schema: main\n      threads: 2\n      online_store: ${store}\n`;
  writeFileSync(
    join(dir, 'profiles.yml'),
    `fraud_features:\n  target: dev\n  outputs:\n${output('dev', '{type: sqlite, path: target/online.sqlite}')}${redisUrl ? output('redis', `{type: redis, url: "${redisUrl}"}`) : ''}`,
  );
  return dir;
}

/** `fsql` as a child process without blocking this one (the in-process server keeps answering). */
export function fsqlAsync(args: string[], opts: { cwd?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FSQL_BIN, ...args], { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** The newest transaction of a recentExample project: an entity whose values are all within TTL. */
export function newestEntity(dir: string): { user_id: string; merchant_id: string } {
  const lines = readFileSync(join(dir, 'data', 'transactions.csv'), 'utf8').trim().split('\n');
  const [, user_id, merchant_id] = lines[lines.length - 1].split(',');
  return { user_id, merchant_id };
}

/** Distinct (user, merchant) pairs of the last `n` transactions, newest first. */
export function recentEntities(dir: string, n: number): { user_id: string; merchant_id: string }[] {
  const lines = readFileSync(join(dir, 'data', 'transactions.csv'), 'utf8').trim().split('\n').slice(1).reverse();
  const seen = new Set<string>();
  const out: { user_id: string; merchant_id: string }[] = [];
  for (const line of lines) {
    const [, user_id, merchant_id] = line.split(',');
    if (seen.has(user_id)) continue;
    seen.add(user_id);
    out.push({ user_id, merchant_id });
    if (out.length === n) break;
  }
  return out;
}
