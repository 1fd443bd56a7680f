import { createWriteStream, openSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { parseDuration } from '../../duration.js';
import { ProjectError } from '../../errors.js';
import { openOnlineStore } from '../../online/open.js';
import { isClusterWorker, superviseWorkers, workerChannel } from '../../serving/cluster.js';
import { DEFAULT_HOST, DEFAULT_PORT, FeatureServer } from '../../serving/server.js';
import { defaultLogDir } from '../../feature-log/segment.js';
import { resolve } from 'node:path';
import type { Logger } from '../../log.js';
import { loggerFor, projectFor } from '../context.js';

interface ServeFlags {
  host?: string;
  port?: string;
  auth?: boolean;
  workers?: string;
  storeTimeout?: string;
  tlsCert?: string;
  tlsKey?: string;
  cacheTtl?: string;
  accessLog?: string;
  cacheSize?: string;
  logDir?: string;
}

const DEFAULT_CACHE_SIZE = 100_000;

function readPem(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new ProjectError(flag, `cannot read ${path}: ${(e as Error).message}`);
  }
}

/** serve.store_timeout's default: how long a request waits for the online store before its 503. */
const DEFAULT_STORE_TIMEOUT_SECONDS = 1;

function seconds(flag: string, text: string): number {
  const s = parseDuration(text);
  if (s === undefined || s <= 0) throw new ProjectError(flag, `'${text}' is not a duration above zero such as '1s' or 0.5 (seconds).`);
  return s;
}

function integer(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new ProjectError(flag, `'${text}' is not a whole number from ${min} to ${max}.`);
  return n;
}

/**
 * The first SIGINT or SIGTERM. One listener for the life of the process (removing the last one
 * would restore the default action, and a signal in that gap would kill the process unlogged); a
 * second signal (an impatient Ctrl-C, a supervisor's stop timeout) exits at once.
 */
function stopSignal(log: Logger | undefined): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received: NodeJS.Signals | undefined;
    const onSignal = (s: NodeJS.Signals) => {
      if (received === undefined) return resolve((received = s));
      log?.warn(`second ${s}: stopping now without waiting for requests in flight`);
      process.exit(1);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('HTTP feature server with Tecton- and Feast-compatible APIs (default 127.0.0.1:6566)')
    .option('--host <host>', `interface to listen on (default: serve.host of the target, else ${DEFAULT_HOST})`)
    .option('--port <port>', `port (default: serve.port of the target, else ${DEFAULT_PORT}; 0 picks a free one)`)
    .option('--auth', 'require an API key (fsql api-key create) on every feature endpoint')
    .option('--store-timeout <duration>', `how long a request waits for the online store before answering 503 (default ${DEFAULT_STORE_TIMEOUT_SECONDS}s)`)
    .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM; with --tls-key)')
    .option('--tls-key <file>', 'the private key of --tls-cert (PEM)')
    .option('--cache-ttl <duration>', 'keep what the store returned per (service, join keys) in memory this long (default off)')
    .option('--cache-size <n>', `entries the cache holds at most, least recently used out first (default ${DEFAULT_CACHE_SIZE})`)
    .option('--access-log <file>', "append one JSON line per request to this file ('-': stdout)")
    .option('--log-dir <dir>', 'where services with logging: write their feature log segments (default: <target-path>/feature_logs/<target>)')
    .option('--workers <n>', 'processes answering on the one port (node:cluster); 0 means one per CPU (default 1)')
    .action(async (flags: ServeFlags, cmd: Command) => {
      const log = loggerFor(cmd);
      const project = projectFor(cmd);
      const conf = project.target.serve;
      const inProfile = (key: string) => `${project.target.profileFile} (serve: ${key} of target '${project.target.name}')`;
      /** a flag's value, else the profile's serve key of the same name; `where` names whichever gave it, for errors */
      const setting = (flag: string, value: string | undefined, key: keyof typeof conf) =>
        value !== undefined ? { where: flag, value } : conf[key] !== undefined ? { where: inProfile(key), value: String(conf[key]) } : undefined;
      const host = flags.host ?? conf.host ?? DEFAULT_HOST;
      const portSetting = setting('--port', flags.port, 'port');
      const port = portSetting ? integer(portSetting.where, portSetting.value, 0, 65535) : DEFAULT_PORT;
      const auth = Boolean(flags.auth || conf.auth);
      const workersSetting = setting('--workers', flags.workers, 'workers');
      let workers = workersSetting ? integer(workersSetting.where, workersSetting.value, 0, 256) : 1;
      if (workers === 0) workers = availableParallelism();
      const cert = setting('--tls-cert', flags.tlsCert, 'tls_cert');
      const key = setting('--tls-key', flags.tlsKey, 'tls_key');
      if (Boolean(cert) !== Boolean(key)) {
        const missing = cert ? (flags.tlsCert ? '--tls-key' : inProfile('tls_key')) : flags.tlsKey ? '--tls-cert' : inProfile('tls_cert');
        throw new ProjectError(missing, 'HTTPS needs both a certificate and its key: --tls-cert and --tls-key (or serve: tls_cert and tls_key in the profile).');
      }
      const tls = cert && key ? { cert: readPem(cert.where, cert.value), key: readPem(key.where, key.value) } : undefined;
      const cacheTtl = setting('--cache-ttl', flags.cacheTtl, 'cache_ttl');
      const cacheSize = setting('--cache-size', flags.cacheSize, 'cache_size');
      const cache = cacheTtl
        ? { ttlMs: Math.round(1000 * seconds(cacheTtl.where, cacheTtl.value)), size: cacheSize ? integer(cacheSize.where, cacheSize.value, 1, 100_000_000) : DEFAULT_CACHE_SIZE }
        : undefined;
      const storeTimeout = setting('--store-timeout', flags.storeTimeout, 'store_timeout');
      const storeTimeoutMs = Math.round(1000 * (storeTimeout ? seconds(storeTimeout.where, storeTimeout.value) : DEFAULT_STORE_TIMEOUT_SECONDS));
      const accessLogSetting = setting('--access-log', flags.accessLog, 'access_log');
      const scheme = tls ? 'https' : 'http';

      if (workers > 1 && !isClusterWorker()) {
        log.info(`starting ${workers} workers on ${scheme}://${host}:${port} (auth ${auth ? 'on' : 'off'})`);
        await superviseWorkers(workers, log);
        return;
      }

      const worker = isClusterWorker();
      // Listening for stop signals before the address is logged: a supervisor may stop the server
      // as soon as it is up, and a signal with no listener would kill it unlogged.
      const stop = stopSignal(worker ? undefined : log);
      let server: FeatureServer | undefined;
      const channel = worker ? workerChannel(() => server!.metricsSnapshot()) : undefined;
      const store = await openOnlineStore(project, { commandTimeoutMs: storeTimeoutMs, connectTimeoutMs: storeTimeoutMs });
      const accessLog = accessLogSetting === undefined ? undefined : accessLogSetting.value === '-' ? process.stdout : appendStream(accessLogSetting.where, accessLogSetting.value);
      try {
        const featureLog = { dir: flags.logDir !== undefined ? resolve(flags.logDir) : defaultLogDir(project) };
        server = await FeatureServer.create({ project, store, log, auth, workers, clusterMetrics: channel?.clusterMetrics, tls, cache, accessLog, featureLog });
        if (auth && !worker) {
          const keys = (await store.listApiKeys()).filter((k) => !k.revoked);
          if (keys.length === 0) log.warn('--auth is on and there is no API key yet: every feature request will get 401. Create one with: fsql api-key create');
        }
        const addr = await server.listen(port, host);
        const where = `${scheme}://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
        if (channel) channel.ready(where);
        else {
          const services = [...server.catalog.services.values()].filter((s) => s.plan && s.online).map((s) => s.name);
          log.info(`Serving ${services.length} feature service(s) (${services.join(', ') || 'none'}) from ${store.location} on ${where} (auth ${auth ? 'on' : 'off'}${cache ? `, cache ${cache.ttlMs / 1000}s x ${cache.size}` : ''})`);
        }
      } catch (e) {
        await store.close();
        channel?.failed((e as Error).message);
        throw e;
      }
      const signal = await stop;
      if (!worker) log.info(`stopping on ${signal}: no new connections; requests in flight finish first (send ${signal} again to stop at once)`);
      await server!.close();
      await store.close();
      if (accessLog && accessLog !== process.stdout) await new Promise<void>((resolve) => accessLog.end(resolve));
      if (!worker) log.info('stopped');
      if (worker) process.exit(0);
    });
}

/** A file opened for appending now, so a path that cannot be written is an error before serving. */
function appendStream(flag: string, path: string): NodeJS.WritableStream {
  let fd: number;
  try {
    fd = openSync(path, 'a');
  } catch (e) {
    throw new ProjectError(flag, `cannot write ${path}: ${(e as Error).message}. Choose a file in a folder you can write to, or '-' for stdout.`);
  }
  return createWriteStream('', { fd });
}
