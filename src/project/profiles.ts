/** profiles.yml in dbt's format, with each warehouse's keys checked and secrets registered. */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { ProjectError } from '../errors.js';
import { registerSecret } from '../secrets.js';
import { expectKeys, expectMapping, isMapping, type Path } from './checks.js';
import { MissingEnvVar, renderValue } from './env-var.js';
import type { OnlineStoreConfig, ServeConfig, Target, WarehouseType } from './types.js';
import { YamlFile } from './yaml-file.js';

const COMMON_KEYS = ['type', 'threads', 'schema', 'database', 'online_store', 'serve'];
/** Keys of dbt-duckdb, dbt-bigquery, dbt-snowflake and dbt-postgres outputs that fsql understands. */
export const OUTPUT_KEYS: Record<WarehouseType, readonly string[]> = {
  duckdb: [...COMMON_KEYS, 'path', 'extensions', 'settings'],
  bigquery: [
    ...COMMON_KEYS, 'method', 'project', 'dataset', 'keyfile', 'keyfile_json', 'location', 'priority',
    'maximum_bytes_billed', 'job_execution_timeout_seconds', 'job_creation_timeout_seconds', 'job_retries',
    'job_retry_deadline_seconds', 'impersonate_service_account', 'execution_project', 'timeout_seconds',
    'api_endpoint',
  ],
  snowflake: [
    ...COMMON_KEYS, 'account', 'user', 'password', 'authenticator', 'private_key', 'private_key_path',
    'private_key_passphrase', 'token', 'role', 'warehouse', 'query_tag', 'connect_retries', 'connect_timeout',
    'retry_on_database_errors', 'retry_all', 'client_session_keep_alive', 'reuse_connections', 'host', 'port',
    'protocol', 'access_url',
  ],
  postgres: [
    ...COMMON_KEYS, 'host', 'port', 'user', 'password', 'dbname', 'sslmode', 'connect_timeout', 'keepalives_idle',
    'search_path', 'role', 'sslrootcert', 'sslcert', 'sslkey', 'application_name', 'retries',
  ],
};
/** Values never shown: registered as secrets the moment they are read. */
const SECRET_KEYS = new Set(['password', 'private_key', 'private_key_passphrase', 'token', 'keyfile_json', 'client_secret', 'refresh_token']);
const ONLINE_KEYS: Record<OnlineStoreConfig['type'], readonly string[]> = {
  sqlite: ['type', 'path'],
  redis: ['type', 'url', 'cluster'],
};
const SERVE_KEYS = ['auth', 'host', 'port', 'workers', 'store_timeout', 'tls_cert', 'tls_key', 'cache_ttl', 'cache_size', 'access_log'];

export interface ProfileRequest {
  projectDir: string;
  /** the profile to use; undefined when none is named (then a lone profile is taken) */
  profileName?: string;
  /** where profileName came from, for the error when it matches no profile */
  profileSource?: string;
  targetName?: string;
  profilesDir?: string;
}

export function findProfilesFile(projectDir: string, profilesDir?: string): string {
  const candidates = [
    profilesDir && join(resolve(profilesDir), 'profiles.yml'),
    process.env.FSQL_PROFILES_DIR && join(resolve(process.env.FSQL_PROFILES_DIR), 'profiles.yml'),
    join(projectDir, 'profiles.yml'),
    join(homedir(), '.fsql', 'profiles.yml'),
  ].filter((c): c is string => Boolean(c));
  const found = profilesDir ? candidates[0] : candidates.find((c) => existsSync(c));
  if (!found || !existsSync(found)) {
    throw new ProjectError(
      found ?? join(projectDir, 'profiles.yml'),
      'profiles.yml not found. Create one in the project folder (see README: profiles.yml), or point --profiles-dir or $FSQL_PROFILES_DIR at its folder.',
    );
  }
  return found;
}

export function loadTarget(req: ProfileRequest): { profileName: string; target: Target } {
  const abs = findProfilesFile(req.projectDir, req.profilesDir);
  const shown = displayPath(req.projectDir, abs);
  const y = YamlFile.read(shown, abs);
  const doc = expectMapping(y, [], y.value, 'profiles.yml');
  const profiles = Object.keys(doc).filter((k) => k !== 'config');
  let profileName = req.profileName;
  if (profileName && !profiles.includes(profileName)) {
    throw y.error([], `profile '${profileName}' (${req.profileSource ?? "'profile:' in fsql_project.yml"}) not found. Profiles here: ${profiles.join(', ') || 'none'}. Set 'profile:' in fsql_project.yml to one of them, or rename the profile.`);
  }
  if (!profileName) {
    if (profiles.length !== 1) throw y.error([], `profiles.yml holds ${profiles.length} profiles (${profiles.join(', ') || 'none'}); name one with 'profile:' in fsql_project.yml.`);
    profileName = profiles[0];
  }
  const profile = expectMapping(y, [profileName], doc[profileName], `profile '${profileName}'`);
  expectKeys(y, [profileName], profile, ['target', 'outputs'], `profile '${profileName}'`);
  const outputs = expectMapping(y, [profileName, 'outputs'], profile.outputs, `'outputs' of profile '${profileName}'`);
  const targetName = req.targetName ?? (typeof profile.target === 'string' ? renderAt(y, [profileName, 'target'], profile.target) : undefined);
  if (!targetName) throw y.error([profileName], `profile '${profileName}' has no 'target:'; add one or pass --target.`);
  if (!(targetName in outputs)) {
    throw y.error([profileName, 'outputs'], `target '${targetName}' not found in profile '${profileName}'. Targets: ${Object.keys(outputs).join(', ')}.`);
  }
  const path: Path = [profileName, 'outputs', targetName];
  const raw = expectMapping(y, path, outputs[targetName], `output '${targetName}'`);
  const settings = renderAll(y, path, raw) as Record<string, unknown>;
  const type = settings.type;
  if (typeof type !== 'string' || !(type in OUTPUT_KEYS)) {
    throw y.error([...path, 'type'], `type must be ${Object.keys(OUTPUT_KEYS).join(', ').replace(/, (\w+)$/, ' or $1')}, not '${String(type)}'.`);
  }
  expectKeys(y, path, settings, OUTPUT_KEYS[type as WarehouseType], `${type} output '${targetName}'`);
  return { profileName, target: buildTarget(y, path, targetName, type as WarehouseType, settings, req.projectDir) };
}

function buildTarget(y: YamlFile, path: Path, name: string, type: WarehouseType, s: Record<string, unknown>, projectDir: string): Target {
  const str = (k: string) => (s[k] === undefined || s[k] === null ? undefined : String(s[k]));
  let schema: string | undefined;
  let database: string | undefined;
  if (type === 'bigquery') {
    schema = str('dataset') ?? str('schema');
    database = str('project') ?? str('database');
    if (!schema) throw y.error(path, `bigquery output '${name}' needs 'dataset:' (the BigQuery dataset for feature tables).`);
    if (!database) throw y.error(path, `bigquery output '${name}' needs 'project:' (the GCP project id).`);
  } else if (type === 'snowflake') {
    schema = str('schema');
    database = str('database');
    for (const k of ['account', 'user', 'database', 'schema']) {
      if (!str(k)) throw y.error(path, `snowflake output '${name}' needs '${k}:'.`);
    }
  } else if (type === 'postgres') {
    schema = str('schema');
    database = str('dbname') ?? str('database');
    for (const k of ['host', 'user', 'schema']) {
      if (!str(k)) throw y.error(path, `postgres output '${name}' needs '${k}:'.`);
    }
    if (!database) throw y.error(path, `postgres output '${name}' needs 'dbname:'.`);
  } else {
    schema = str('schema') ?? 'main';
    database = str('database');
  }
  const threads = s.threads === undefined ? 1 : Number(s.threads);
  if (!Number.isInteger(threads) || threads < 1) throw y.error([...path, 'threads'], 'threads must be a whole number of 1 or more.');
  return {
    name,
    type,
    schema: schema!,
    database,
    threads,
    settings: type === 'duckdb' ? { ...s, path: duckdbPath(str('path'), projectDir) } : s,
    onlineStore: onlineStore(y, [...path, 'online_store'], s.online_store, projectDir),
    serve: serveConfig(y, [...path, 'serve'], s.serve, projectDir),
    profileFile: y.file,
  };
}

function duckdbPath(p: string | undefined, projectDir: string): string {
  if (!p) return ':memory:';
  return p === ':memory:' || isAbsolute(p) || p.startsWith('md:') ? p : resolve(projectDir, p);
}

function onlineStore(y: YamlFile, path: Path, v: unknown, projectDir: string): OnlineStoreConfig {
  if (v === undefined || v === null) return { type: 'sqlite', path: resolve(projectDir, 'target', 'online.sqlite') };
  const m = expectMapping(y, path, v, 'online_store');
  if (m.type !== 'sqlite' && m.type !== 'redis') throw y.error([...path, 'type'], `online_store type must be sqlite or redis, not '${String(m.type)}'.`);
  expectKeys(y, path, m, ONLINE_KEYS[m.type], `${m.type} online_store`);
  if (m.type === 'sqlite') {
    const p = typeof m.path === 'string' ? m.path : 'target/online.sqlite';
    return { type: 'sqlite', path: isAbsolute(p) ? p : resolve(projectDir, p) };
  }
  if (typeof m.url !== 'string' || !/^rediss?:\/\//.test(m.url)) throw y.error([...path, 'url'], "redis online_store needs url: 'redis://host:port' (or rediss:// for TLS).");
  const password = /^rediss?:\/\/[^:@/]*:([^@/]+)@/.exec(m.url)?.[1];
  registerSecret(password && decodeURIComponent(password));
  return { type: 'redis', url: m.url, cluster: m.cluster === true || m.cluster === 'true' };
}

function serveConfig(y: YamlFile, path: Path, v: unknown, projectDir: string): ServeConfig {
  if (v === undefined || v === null) return { auth: false };
  const m = expectMapping(y, path, v, 'serve');
  expectKeys(y, path, m, SERVE_KEYS, 'serve');
  const text = (key: string) => (m[key] === undefined || m[key] === null ? undefined : String(m[key]));
  const file = (key: string) => {
    const p = text(key);
    return p === undefined || p === '-' || isAbsolute(p) ? p : resolve(projectDir, p);
  };
  const number = (key: string) => (m[key] === undefined ? undefined : Number(m[key]));
  return {
    auth: m.auth === true || m.auth === 'true',
    host: text('host'),
    port: number('port'),
    workers: number('workers'),
    store_timeout: text('store_timeout'),
    cache_ttl: text('cache_ttl'),
    cache_size: number('cache_size'),
    tls_cert: file('tls_cert'),
    tls_key: file('tls_key'),
    access_log: file('access_log'),
  };
}

function renderAt(y: YamlFile, path: Path, value: string): string {
  try {
    return renderValue(value);
  } catch (e) {
    if (e instanceof MissingEnvVar || (e as Error).message?.includes('environment variable')) {
      const detail = e instanceof MissingEnvVar ? e.message : (e as Error).message.split('\n').pop()!.replace(/^\s*Error: /, '');
      throw y.error(path, detail.trim());
    }
    throw y.error(path, `cannot render value: ${(e as Error).message.split('\n').pop()}`);
  }
}

/** Renders env_var() in every string value; secret-named keys are registered before anything can print them. */
function renderAll(y: YamlFile, path: Path, v: unknown): unknown {
  if (typeof v === 'string') {
    const out = renderAt(y, path, v);
    if (SECRET_KEYS.has(String(path[path.length - 1]))) registerSecret(out);
    return out;
  }
  if (Array.isArray(v)) return v.map((item, i) => renderAll(y, [...path, i], item));
  if (isMapping(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(v)) out[k] = renderAll(y, [...path, k], val);
    return out;
  }
  if (SECRET_KEYS.has(String(path[path.length - 1])) && v !== undefined && v !== null) registerSecret(String(v));
  return v;
}

export function displayPath(projectDir: string, abs: string): string {
  const rel = relative(projectDir, abs);
  return rel.startsWith('..') ? abs : rel;
}
