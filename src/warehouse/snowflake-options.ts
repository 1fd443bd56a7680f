/**
 * A dbt-snowflake profile output -> snowflake-sdk connection options. Every profile key is
 * translated here by name, to the SDK's own option or to fsql's retry settings; a key this table
 * does not know is an error (a silently dropped `private_key_file` is how credentials get lost).
 */
import { createPrivateKey } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { ConnectionOptions } from 'snowflake-sdk';
import { WarehouseError } from '../errors.js';
import type { Target } from '../project/types.js';
import { registerSecret } from '../secrets.js';

export interface SnowflakeSettings {
  /** passed to snowflake.createConnection */
  options: ConnectionOptions;
  /** extra login attempts after a transient failure (dbt: connect_retries, default 0) */
  connectRetries: number;
  /** how long one login attempt may take, in ms (dbt: connect_timeout, default 10 s; 0: no limit) */
  connectTimeoutMs: number;
  /** also retry logins that Snowflake refused (dbt: retry_on_database_errors) */
  retryOnDatabaseErrors: boolean;
  /** retry every failed login (dbt: retry_all) */
  retryAll: boolean;
  /** keep sessions open for the whole command (dbt: reuse_connections, default true here) */
  reuseConnections: boolean;
  /** browser SSO: the SDK must be driven by connectAsync and no login timeout applies */
  externalBrowser: boolean;
  /** who and where, for messages: never a secret */
  identity: { account: string; user: string; role?: string; warehouse?: string; database?: string; schema: string; authenticator: string };
}

type Ctx = { s: Record<string, unknown>; projectDir: string; file: string; out: SnowflakeSettings; keyDecrypted?: boolean };

/** fsql's own keys, shared by every warehouse type: not connection options. */
const COMMON = new Set(['type', 'threads', 'online_store', 'serve']);

/** profile key -> what it becomes. */
const KEYS: Record<string, (v: unknown, c: Ctx) => void> = {
  account: (v, c) => (c.out.options.account = text(v, 'account', c)),
  user: (v, c) => (c.out.options.username = text(v, 'user', c)),
  password: (v, c) => (c.out.options.password = text(v, 'password', c)),
  authenticator: () => undefined, // decided with the credentials below
  private_key: (v, c) => (c.out.options.privateKey = pemKey(text(v, 'private_key', c), c)),
  private_key_path: (v, c) => (c.out.options.privateKeyPath = keyPath(text(v, 'private_key_path', c), c)),
  private_key_passphrase: (v, c) => (c.out.options.privateKeyPass = text(v, 'private_key_passphrase', c)),
  token: (v, c) => (c.out.options.token = text(v, 'token', c)),
  role: (v, c) => (c.out.options.role = text(v, 'role', c)),
  warehouse: (v, c) => (c.out.options.warehouse = text(v, 'warehouse', c)),
  database: (v, c) => (c.out.options.database = text(v, 'database', c)),
  schema: (v, c) => (c.out.options.schema = text(v, 'schema', c)),
  query_tag: (v, c) => (c.out.options.queryTag = text(v, 'query_tag', c)),
  client_session_keep_alive: (v, c) => (c.out.options.clientSessionKeepAlive = bool(v, 'client_session_keep_alive', c)),
  connect_retries: (v, c) => (c.out.connectRetries = count(v, 'connect_retries', c)),
  connect_timeout: (v, c) => (c.out.connectTimeoutMs = count(v, 'connect_timeout', c) * 1000),
  retry_on_database_errors: (v, c) => (c.out.retryOnDatabaseErrors = bool(v, 'retry_on_database_errors', c)),
  retry_all: (v, c) => (c.out.retryAll = bool(v, 'retry_all', c)),
  reuse_connections: (v, c) => (c.out.reuseConnections = bool(v, 'reuse_connections', c)),
  host: (v, c) => (c.out.options.host = text(v, 'host', c)),
  port: (v, c) => ((c.out.options as { port?: number }).port = count(v, 'port', c)),
  protocol: (v, c) => ((c.out.options as { protocol?: string }).protocol = protocol(v, c)),
  access_url: (v, c) => (c.out.options.accessUrl = text(v, 'access_url', c)),
};

/** dbt-snowflake `authenticator:` values -> the SDK's. */
const AUTHENTICATORS: Record<string, string> = {
  snowflake: 'SNOWFLAKE',
  externalbrowser: 'EXTERNALBROWSER',
  oauth: 'OAUTH',
  username_password_mfa: 'USERNAME_PASSWORD_MFA',
  jwt: 'SNOWFLAKE_JWT',
  snowflake_jwt: 'SNOWFLAKE_JWT',
  programmatic_access_token: 'PROGRAMMATIC_ACCESS_TOKEN',
};

export function snowflakeSettings(target: Target, projectDir: string): SnowflakeSettings {
  const s = target.settings;
  const c: Ctx = {
    s,
    projectDir,
    file: target.profileFile,
    out: {
      options: {
        application: 'fsql',
        // fsql retries logins itself (connect_retries); the SDK's own loop would multiply them
        sfRetryMaxLoginRetries: 0,
        // a NULL stays null when numbers are fetched as text (int64 kept exact, see snowflake-types)
        representNullAsStringNull: false,
        validateDefaultParameters: false,
      },
      connectRetries: 0,
      connectTimeoutMs: 10_000,
      retryOnDatabaseErrors: false,
      retryAll: false,
      reuseConnections: true,
      externalBrowser: false,
      identity: { account: '', user: '', schema: target.schema, authenticator: 'snowflake' },
    },
  };
  for (const [key, value] of Object.entries(s)) {
    if (COMMON.has(key) || value === undefined || value === null) continue;
    const apply = KEYS[key];
    if (!apply) {
      throw new WarehouseError(`${c.file}: unknown key '${key}' in snowflake output '${target.name}'. Allowed keys: ${[...COMMON, ...Object.keys(KEYS)].join(', ')}.`);
    }
    apply(value, c);
  }
  // a base64 DER key was decrypted into PEM already: the passphrase has done its work
  if (c.keyDecrypted) delete c.out.options.privateKeyPass;
  chooseAuthenticator(c, target.name);
  const o = c.out.options;
  if (!o.account && !o.accessUrl && !o.host) throw new WarehouseError(`${c.file}: snowflake output '${target.name}' needs 'account:' (your account identifier, such as xy12345.us-east-1 or myorg-myaccount).`);
  c.out.identity = {
    account: o.account ?? o.accessUrl ?? o.host ?? '',
    user: o.username ?? '',
    role: o.role,
    warehouse: o.warehouse,
    database: o.database,
    schema: o.schema ?? target.schema,
    authenticator: c.out.identity.authenticator,
  };
  return c.out;
}

function chooseAuthenticator(c: Ctx, targetName: string): void {
  const o = c.out.options;
  const raw = c.s.authenticator === undefined || c.s.authenticator === null ? undefined : String(c.s.authenticator).trim();
  const hasKey = Boolean(o.privateKey || o.privateKeyPath);
  let auth: string;
  if (raw === undefined || raw.toLowerCase() === 'snowflake') {
    auth = hasKey ? 'SNOWFLAKE_JWT' : 'SNOWFLAKE';
  } else if (/^https:\/\/[^/]+\.okta\.com\/?$/i.test(raw)) {
    auth = raw;
  } else {
    const mapped = AUTHENTICATORS[raw.toLowerCase()];
    if (!mapped) {
      throw new WarehouseError(`${c.file}: authenticator '${raw}' of snowflake output '${targetName}' is not supported. Use one of: ${Object.keys(AUTHENTICATORS).join(', ')}, or https://<okta_account>.okta.com.`);
    }
    auth = mapped;
  }
  const need = (ok: boolean, what: string) => {
    if (!ok) throw new WarehouseError(`${c.file}: snowflake output '${targetName}' uses authenticator ${auth.toLowerCase()} and needs ${what}.`);
  };
  switch (auth) {
    case 'SNOWFLAKE':
    case 'USERNAME_PASSWORD_MFA':
      need(Boolean(o.password), "'password:' (or private_key_path: for key-pair authentication, or authenticator: externalbrowser / oauth)");
      break;
    case 'SNOWFLAKE_JWT':
      need(hasKey, "'private_key_path:' or 'private_key:'");
      break;
    case 'OAUTH':
    case 'PROGRAMMATIC_ACCESS_TOKEN':
      need(Boolean(o.token), "'token:' (an OAuth access token, for example \"{{ env_var('SNOWFLAKE_TOKEN') }}\")");
      break;
    case 'EXTERNALBROWSER':
      c.out.externalBrowser = true;
      break;
  }
  if (auth !== 'SNOWFLAKE_JWT' && o.privateKeyPass && !hasKey) {
    throw new WarehouseError(`${c.file}: 'private_key_passphrase:' in snowflake output '${targetName}' is set but no private_key_path: or private_key: is.`);
  }
  o.authenticator = auth;
  c.out.identity.authenticator = auth.toLowerCase();
}

function text(v: unknown, key: string, c: Ctx): string {
  if (typeof v !== 'string' && typeof v !== 'number') throw new WarehouseError(`${c.file}: '${key}:' of the snowflake output must be text.`);
  const s = String(v);
  if (s.trim() === '') throw new WarehouseError(`${c.file}: '${key}:' of the snowflake output is empty; set it or remove the key.`);
  return s;
}

function bool(v: unknown, key: string, c: Ctx): boolean {
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'True' || v === 'TRUE') return true;
  if (v === 'false' || v === 'False' || v === 'FALSE') return false;
  throw new WarehouseError(`${c.file}: '${key}:' of the snowflake output must be true or false, not '${String(v)}'.`);
}

function count(v: unknown, key: string, c: Ctx): number {
  const n = typeof v === 'number' ? v : Number(String(v));
  if (!Number.isInteger(n) || n < 0) throw new WarehouseError(`${c.file}: '${key}:' of the snowflake output must be a whole number of 0 or more, not '${String(v)}'.`);
  return n;
}

function protocol(v: unknown, c: Ctx): string {
  const p = text(v, 'protocol', c).toLowerCase();
  if (p !== 'https' && p !== 'http') throw new WarehouseError(`${c.file}: 'protocol:' of the snowflake output must be https or http.`);
  return p;
}

function keyPath(p: string, c: Ctx): string {
  const abs = isAbsolute(p) ? p : resolve(c.projectDir, p);
  if (!existsSync(abs) || !statSync(abs).isFile()) {
    throw new WarehouseError(`${c.file}: private_key_path '${p}' of the snowflake output is not a file. Point it at your PEM private key (rsa_key.p8).`);
  }
  return abs;
}

/**
 * dbt accepts `private_key` as PEM text or as base64 DER (PKCS#8, the form kept in secret
 * stores); the SDK takes PEM only, so base64 DER is turned into PEM here (decrypted with the
 * passphrase when there is one, which is then no longer needed).
 */
function pemKey(key: string, c: Ctx): string {
  // a PEM kept in an environment variable often has its newlines written as \n
  const trimmed = (key.includes('\n') ? key : key.replace(/\\n/g, '\n')).trim();
  if (trimmed.startsWith('-----BEGIN')) {
    registerKey(trimmed);
    return `${trimmed}\n`;
  }
  if (!/^[A-Za-z0-9+/=\s]+$/.test(trimmed)) {
    throw new WarehouseError(`${c.file}: 'private_key:' of the snowflake output is neither PEM text (-----BEGIN ... PRIVATE KEY-----) nor base64 DER.`);
  }
  const passphrase = c.s.private_key_passphrase === undefined || c.s.private_key_passphrase === null ? undefined : String(c.s.private_key_passphrase);
  let pem: string;
  try {
    const der = Buffer.from(trimmed.replace(/\s+/g, ''), 'base64');
    const keyObject = createPrivateKey(passphrase ? { key: der, format: 'der', type: 'pkcs8', passphrase } : { key: der, format: 'der', type: 'pkcs8' });
    pem = keyObject.export({ format: 'pem', type: 'pkcs8' }).toString();
  } catch {
    throw new WarehouseError(`${c.file}: 'private_key:' of the snowflake output could not be read as base64 PKCS#8 DER${passphrase ? ' with the given private_key_passphrase' : ''}; check the key (and its passphrase).`);
  }
  registerKey(pem);
  c.keyDecrypted = Boolean(passphrase);
  return pem;
}

/** The key and each of its base64 lines: a message quoting one line must not leak it either. */
function registerKey(pem: string): void {
  registerSecret(pem);
  for (const line of pem.split('\n')) if (line.length >= 32 && !line.startsWith('-----')) registerSecret(line.trim());
}
