/**
 * The feature server, with no framework (the request path is short and measured, see
 * bench/serve.ts): http1.ts reads and answers the common request, node:http every other. One
 * exact-path route table; per request: route, auth (headers only), body with a 1 MiB limit, JSON,
 * a handler that does at most one online store round trip, one JSON answer.
 * Every failure is a JSON error `{error, message, code}` with its HTTP status and gRPC code; no
 * request can take the process down.
 */
import { createServer, STATUS_CODES, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { FsqlError, OnlineStoreError, RequestError } from '../errors.js';
import { LayoutMismatchError } from '../online/codec.js';
import type { Logger } from '../log.js';
import type { OnlineStore } from '../online/store.js';
import type { Project } from '../project/types.js';
import { redact } from '../secrets.js';
import { Timestamp } from '../values.js';
import { ANONYMOUS, Authenticator, type Principal } from './auth.js';
import { buildCatalog, UnavailableService, type Catalog } from './catalog.js';
import { feastGetOnlineFeatures } from './feast.js';
import { seriesKey, type Gauge } from '../prometheus-text.js';
import { accessLine } from './access-log.js';
import { Metrics, renderMetrics, type MetricsSnapshot } from './metrics.js';
import { pushRows } from './push.js';
import { FeatureLog, type FeatureLogOptions } from './feature-log.js';
import { PushLog } from './push-log.js';
import { nodeExchange, type Exchange } from './exchange.js';
import { Http1Connection } from './http1.js';
import { GRPC, parseJsonBody } from './request.js';
import { ResponseBatch } from './response-batch.js';
import { featureServicesList, tectonGetFeatures, tectonGetFeaturesBatch, tectonMetadata } from './tecton.js';
import { ReadCache, type CacheOptions } from './read-cache.js';
import { TimedReader } from './timed-read.js';

export const DEFAULT_PORT = 6566;
export const DEFAULT_HOST = '127.0.0.1';
export const BODY_LIMIT = 1024 * 1024;

export interface ServerOptions {
  project: Project;
  store: OnlineStore;
  log: Logger;
  /** require an API key on every feature endpoint */
  auth: boolean;
  /** how long a key lookup is cached (revocation delay); default 5 s */
  authCacheMs?: number;
  bodyLimit?: number;
  /** with `serve --workers N`: the metrics of all workers (asked of the primary); default: this process's */
  clusterMetrics?: () => Promise<MetricsSnapshot>;
  workers?: number;
  /** the time each request is answered for (TTLs, statuses, push's future check, cache age); default: the wall clock */
  clock?: () => Timestamp;
  /** serve HTTPS with this certificate and key (PEM) */
  tls?: { cert: Buffer; key: Buffer };
  /** the hot-key cache (serve --cache-ttl, --cache-size); default off */
  cache?: CacheOptions;
  /** serve --access-log: one JSON line per request */
  accessLog?: NodeJS.WritableStream;
  /** where and how services with `logging:` log what they serve, and where /push's offline rows go (SPEC section 12); default: neither */
  featureLog?: Omit<FeatureLogOptions, 'project' | 'metrics' | 'log'>;
}

/** What a handler gets. */
export interface RequestContext {
  body: unknown;
  principal: Principal;
  /** process.hrtime.bigint() when the request arrived */
  started: bigint;
  /** the request's time, read once from the server's clock when it arrived */
  now: Timestamp;
  /** the route's endpoint label, for store latency metrics */
  endpoint: string;
  /** the feature service the request reads, once the handler has found it in the catalogue (the request metrics' `service` label) */
  service?: string;
}

export interface Reply {
  status?: number;
  body: string;
  contentType?: string;
  /** more response headers (allow) */
  headers?: Record<string, string>;
}

/** Everything a handler may use: the catalogue, the store reader, auth, metrics. */
export interface ServerState {
  project: Project;
  /** replaced only when the store's layouts change under a running server (see reloadCatalog) */
  catalog: Catalog;
  reader: TimedReader;
  store: OnlineStore;
  metrics: Metrics;
  auth: boolean;
  clock: () => Timestamp;
  /** the feature log, when the server was given one and a service logs */
  featureLog?: FeatureLog;
  /** /push's offline rows (in the feature log's folder); without one, /push writes online only */
  pushLog?: PushLog;
}

interface Route {
  method: 'GET' | 'POST';
  /** needs an API key when auth is on */
  auth: boolean;
  body: boolean;
  handler: (state: ServerState, ctx: RequestContext) => Promise<Reply>;
}

const JSON_TYPE = 'application/json';

export function errorBody(status: number, grpcCode: number, message: string): string {
  return JSON.stringify({ error: message, message, code: grpcCode });
}

/** The answer to a failure the server did not foresee (its details go to the log only). */
const INTERNAL = errorBody(500, GRPC.INTERNAL, 'internal error; the server log has the details.');

/** A client that broke the protocol (node:http's 'clientError', http1.ts's timeout): a JSON error, then the socket closes. */
function refuseClient(err: { code?: string }, socket: Duplex): void {
  if (!socket.writable) return void socket.destroy();
  const [status, code, message] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, GRPC.INVALID_ARGUMENT, 'the request did not arrive whole in time'] : err.code === 'HPE_HEADER_OVERFLOW' ? [431, GRPC.RESOURCE_EXHAUSTED, "the request's headers are too large"] : [400, GRPC.INVALID_ARGUMENT, 'malformed HTTP request'];
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: ${JSON_TYPE}\r\nconnection: close\r\n\r\n${errorBody(status, code, message)}`);
}

export class FeatureServer {
  readonly state: ServerState;
  private readonly http: Server;
  private readonly authenticator: Authenticator;
  private readonly routes: Map<string, Route>;
  private readonly bodyLimit: number;
  private readonly seriesCache = new Map<string, [string, string]>();
  /** responses written together once per loop turn */
  private readonly responses = new ResponseBatch(() => this.state.featureLog?.encodeQueued());
  /** set by close(): answers close their connections */
  private closing = false;
  /** connections on http1.ts's path (node:http keeps its own) */
  private readonly connections = new Set<Http1Connection>();

  private constructor(
    private readonly opts: ServerOptions,
    catalog: Catalog,
  ) {
    const metrics = new Metrics();
    const clock = opts.clock ?? (() => Timestamp.fromMillis(Date.now()));
    this.state = { project: opts.project, catalog, store: opts.store, metrics, auth: opts.auth, reader: new TimedReader(opts.store, metrics, opts.cache ? new ReadCache(opts.cache) : undefined), clock };
    if (opts.featureLog) {
      const featureLog = new FeatureLog({ ...opts.featureLog, project: opts.project, metrics, log: opts.log });
      if (featureLog.active) this.state.featureLog = featureLog;
      this.state.pushLog = new PushLog(opts.featureLog.dir);
    }
    this.authenticator = new Authenticator(opts.store, opts.authCacheMs ?? 5000, () => clock().millis);
    this.bodyLimit = opts.bodyLimit ?? BODY_LIMIT;
    const feature = (handler: Route['handler']): Route => ({ method: 'POST', auth: true, body: true, handler });
    this.routes = new Map<string, Route>([
      ['/api/v1/feature-service/get-features', feature(tectonGetFeatures)],
      ['/api/v1/feature-service/get-features-batch', feature(tectonGetFeaturesBatch)],
      ['/api/v1/feature-service/metadata', feature(tectonMetadata)],
      ['/api/v1/feature-services', { method: 'GET', auth: true, body: false, handler: featureServicesList }],
      ['/get-online-features', feature(feastGetOnlineFeatures)],
      ['/push', feature(pushRows)],
      ['/health', { method: 'GET', auth: false, body: false, handler: (s) => this.health(s) }],
      ['/metrics', { method: 'GET', auth: false, body: false, handler: () => this.metricsText() }],
    ]);
    const handle = (ex: Exchange) => {
      this.handle(ex).catch((e) => this.fail(ex, e));
    };
    const listener: RequestListener = (req, res) => handle(nodeExchange(req, res, this.bodyLimit));
    const timeouts = { keepAliveTimeout: 65_000, requestTimeout: 30_000, headersTimeout: 20_000 };
    this.http = opts.tls ? createHttpsServer({ ...timeouts, cert: opts.tls.cert, key: opts.tls.key }, listener) : createServer(timeouts, listener);
    this.http.on('clientError', refuseClient);
    // Connections start on http1.ts's path, which hands them to node:http's own handler for any
    // request it does not serve.
    const event = opts.tls ? 'secureConnection' : 'connection';
    const listeners = this.http.listeners(event) as ((socket: Socket) => void)[];
    if (listeners.length !== 1) throw new Error(`node:http's server has ${listeners.length} '${event}' listeners, not its own one`);
    const [nodeConnection] = listeners;
    this.http.removeListener(event, nodeConnection);
    const http1 = {
      bodyLimit: this.bodyLimit,
      keepAliveTimeout: timeouts.keepAliveTimeout,
      requestTimeout: timeouts.requestTimeout,
      now: () => this.state.clock().millis,
      handle,
      fallback: (socket: Socket) => nodeConnection.call(this.http, socket),
      refuse: refuseClient,
    };
    this.http.on(event, (socket: Socket) => {
      const connection = new Http1Connection(socket, http1);
      this.connections.add(connection);
      socket.once('close', () => this.connections.delete(connection));
    });
  }

  /** Loads the service catalogue once (from the project and the layouts sync recorded). */
  static async create(opts: ServerOptions): Promise<FeatureServer> {
    const layouts = await opts.store.getLayouts();
    const catalog = buildCatalog(opts.project, layouts);
    for (const s of catalog.services.values()) if (s.unavailable && s.online) opts.log.warn(`${s.unavailable} Requests for it answer 503 until then (the server looks again at most every 5 s).`);
    return new FeatureServer(opts, catalog);
  }

  get catalog(): Catalog {
    return this.state.catalog;
  }

  private lastReload = 0;

  /** Rebuilds the catalogue from the store's layouts; at most once per 5 s. True when it did. */
  private async reloadCatalog(): Promise<boolean> {
    const now = Date.now();
    if (now - this.lastReload < 5000) return false;
    this.lastReload = now;
    this.state.catalog = buildCatalog(this.opts.project, await this.opts.store.getLayouts());
    this.opts.log.info('the online store\'s layouts changed since start-up (fsql sync); reloaded the service catalogue');
    return true;
  }

  listen(port: number, host: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(port, host, () => {
        this.http.off('error', reject);
        resolve(this.http.address() as AddressInfo);
      });
    });
  }

  /** Stops accepting, lets requests in flight finish (their answers close their connections), closes idle connections, then writes the feature log's queue. */
  async close(): Promise<void> {
    this.closing = true;
    await new Promise<void>((resolve) => {
      this.http.close(() => resolve());
      this.http.closeIdleConnections();
      for (const c of this.connections) c.close();
    });
    await this.state.featureLog?.close();
    await this.state.pushLog?.close();
  }

  metricsSnapshot(): MetricsSnapshot {
    return this.state.metrics.snapshot();
  }

  private async handle(ex: Exchange): Promise<void> {
    const started = process.hrtime.bigint();
    const url = ex.url;
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const route = this.routes.get(path);
    const endpoint = route ? path : 'other';
    let ctx: RequestContext | undefined;
    let reply: Reply;
    try {
      if (!route) throw new RequestError(404, GRPC.NOT_FOUND, `no endpoint ${ex.method.slice(0, 10)} ${path.slice(0, 100)}; see GET /api/v1/feature-services and the README's HTTP API section.`);
      if (ex.method !== route.method) {
        reply = { status: 405, body: errorBody(405, GRPC.UNIMPLEMENTED, `${path} takes ${route.method}, not ${ex.method.slice(0, 10)}.`), headers: { allow: route.method } };
      } else {
        const principal = route.auth && this.opts.auth ? await this.authenticator.authenticate(ex.authorization) : ANONYMOUS;
        const body = route.body ? parseJsonBody(await ex.body()) : undefined;
        ctx = { body, principal, started, endpoint, now: this.state.clock() };
        try {
          reply = await route.handler(this.state, ctx);
        } catch (e) {
          // a sync after start-up changed a view's features, or synced a view the catalogue lacked:
          // reload the layouts (at most every 5 s) and retry once
          if (!(e instanceof LayoutMismatchError || e instanceof UnavailableService) || !(await this.reloadCatalog())) throw e;
          reply = await route.handler(this.state, ctx);
        }
      }
    } catch (e) {
      reply = this.errorReply(e);
    }
    const status = reply.status ?? 200;
    const bytes = Buffer.byteLength(reply.body);
    const service = ctx?.service ?? '';
    this.responses.add(() => {
      // stopping, answers close their connections (node:http would keep one open until its keep-alive timeout)
      ex.answer(status, reply.contentType ?? JSON_TYPE, reply.body, bytes, this.closing ? { ...reply.headers, connection: 'close' } : reply.headers);
      this.record(endpoint, status, service, started);
      this.opts.accessLog?.write(accessLine(ex, path, status, bytes, started));
    }, (e) => this.fail(ex, e));
  }

  /** Request count and latency by endpoint, status and service ('' where the request named none the catalogue has). */
  private record(endpoint: string, status: number, service: string, started: bigint): void {
    const id = `${endpoint}|${status}|${service}`;
    let keys = this.seriesCache.get(id);
    if (!keys) {
      const labels = { service, endpoint, status: String(status) };
      keys = [seriesKey('fsql_http_requests_total', labels), seriesKey('fsql_http_request_duration_seconds', labels)];
      this.seriesCache.set(id, keys);
    }
    this.state.metrics.incKey(keys[0]);
    this.state.metrics.observeKey(keys[1], Number(process.hrtime.bigint() - started) / 1e9);
  }

  private errorReply(e: unknown): Reply {
    if (e instanceof RequestError) {
      return { status: e.status, body: errorBody(e.status, e.grpcCode, e.message) };
    }
    if (e instanceof OnlineStoreError) {
      return { status: 503, body: errorBody(503, GRPC.UNAVAILABLE, `the online store is unavailable: ${e.message}`) };
    }
    this.opts.log.error(`internal error answering a request: ${redact(e instanceof Error ? (e.stack ?? e.message) : String(e))}`);
    return { status: 500, body: INTERNAL };
  }

  private fail(ex: Exchange, e: unknown): void {
    this.opts.log.error(`internal error: ${redact(e instanceof Error ? (e.stack ?? e.message) : String(e))}`);
    ex.answer(500, JSON_TYPE, INTERNAL, INTERNAL.length);
  }

  private async health(s: ServerState): Promise<Reply> {
    try {
      await s.store.ping();
      return { body: JSON.stringify({ status: 'ok', store: s.store.location }) };
    } catch (e) {
      const msg = e instanceof FsqlError ? e.message : 'the online store does not answer';
      return { status: 503, body: errorBody(503, GRPC.UNAVAILABLE, `the online store is unavailable: ${msg}`) };
    }
  }

  private async metricsText(): Promise<Reply> {
    const snap = this.opts.clusterMetrics ? await this.opts.clusterMetrics() : this.metricsSnapshot();
    const gauges: Gauge[] = [{ name: 'fsql_serve_workers', labels: {}, value: this.opts.workers ?? 1 }];
    const nowMs = this.state.clock().millis;
    for (const cv of this.state.catalog.views.values()) {
      const view = cv.layout.view;
      if (cv.layout.ttlSeconds !== undefined) gauges.push({ name: 'fsql_feature_view_ttl_seconds', labels: { feature_view: view }, value: cv.layout.ttlSeconds });
      try {
        const wm = await this.state.store.getWatermark(view);
        if (wm) gauges.push({ name: 'fsql_feature_freshness_seconds', labels: { feature_view: view }, value: (nowMs - wm.millis) / 1000 });
      } catch {
        // an unreachable store leaves the gauge out; fsql_online_store_errors_total and /health say why
        this.state.metrics.inc('fsql_online_store_errors_total', { endpoint: '/metrics' });
      }
    }
    try {
      for (const s of await this.state.store.getSyncStats()) {
        gauges.push({ name: 'fsql_sync_runs_total', labels: { feature_view: s.view }, value: s.runs });
        gauges.push({ name: 'fsql_sync_rows_total', labels: { feature_view: s.view }, value: s.rows });
        gauges.push({ name: 'fsql_sync_failures_total', labels: { feature_view: s.view }, value: s.failures });
        if (s.lastSuccess !== undefined) gauges.push({ name: 'fsql_sync_last_success_timestamp_seconds', labels: { feature_view: s.view }, value: s.lastSuccess });
        if (s.duration !== undefined) gauges.push({ name: 'fsql_sync_duration_seconds', labels: { feature_view: s.view }, value: s.duration });
      }
    } catch {
      this.state.metrics.inc('fsql_online_store_errors_total', { endpoint: '/metrics' });
    }
    return { body: renderMetrics(snap, gauges), contentType: 'text/plain; version=0.0.4; charset=utf-8' };
  }
}
