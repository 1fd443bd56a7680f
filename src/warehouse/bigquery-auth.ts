/**
 * dbt-bigquery profile keys -> what the BigQuery SDK and each job need. Every key is translated
 * here, explicitly, and checked: a typo in a profile is an error that names the key, not a job
 * that silently runs with defaults.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { GoogleAuth, Impersonated, JWT, type AuthClient } from 'google-auth-library';
import { ProjectError } from '../errors.js';
import type { Target } from '../project/types.js';
import { registerSecret } from '../secrets.js';

/** BigQuery, plus cloud-platform (impersonation, Cloud Storage) and Drive (Sheets-backed tables), as dbt-bigquery asks. */
export const BIGQUERY_SCOPES = [
  'https://www.googleapis.com/auth/bigquery',
  'https://www.googleapis.com/auth/cloud-platform',
  'https://www.googleapis.com/auth/drive',
];
const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

export type AuthMethod = 'service-account' | 'oauth';

/** The profile's keys, checked and in the units the API takes. */
export interface BigQuerySettings {
  /** GCP project of the feature tables (`project:`) */
  project: string;
  dataset: string;
  /** project that runs (and pays for) the jobs: `execution_project:`, default `project:` */
  executionProject: string;
  location?: string;
  priority: 'INTERACTIVE' | 'BATCH';
  /** int64 as decimal text, as the API takes it */
  maximumBytesBilled?: string;
  jobExecutionTimeoutMs?: number;
  jobCreationTimeoutMs?: number;
  /** extra attempts after a transient error (dbt's default: 1) */
  jobRetries: number;
  jobRetryDeadlineMs?: number;
  apiEndpoint?: string;
  method: AuthMethod;
  impersonate?: string;
}

export function readSettings(target: Target): BigQuerySettings {
  const s = target.settings;
  const where = `output '${target.name}'`;
  const bad = (key: string, detail: string) => new ProjectError(target.profileFile, `${where}: ${key}: ${detail}`);
  const text = (key: string): string | undefined => {
    const v = s[key];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string' && typeof v !== 'number') throw bad(key, 'must be a single value.');
    return String(v);
  };
  const seconds = (key: string): number | undefined => {
    const v = text(key);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw bad(key, `must be a number of seconds above 0, not '${v}'.`);
    return Math.round(n * 1000);
  };

  const method = text('method') ?? (s.keyfile || s.keyfile_json ? 'service-account' : 'oauth');
  let authMethod: AuthMethod;
  if (method === 'service-account' || method === 'service-account-json') authMethod = 'service-account';
  else if (method === 'oauth') authMethod = 'oauth';
  else if (method === 'oauth-secrets' || method === 'external-oauth-wif') {
    throw bad('method', `'${method}' is not supported by fsql. Use 'service-account' (keyfile or keyfile_json) or 'oauth' (application default credentials, optionally with impersonate_service_account).`);
  } else throw bad('method', `must be service-account, service-account-json or oauth, not '${method}'.`);
  if (authMethod === 'oauth' && (s.keyfile || s.keyfile_json)) {
    throw bad('method', "is oauth (application default credentials), but keyfile/keyfile_json is set too; use method: service-account for a key, or remove the key.");
  }

  const priority = (text('priority') ?? 'interactive').toLowerCase();
  if (priority !== 'interactive' && priority !== 'batch') throw bad('priority', `must be interactive or batch, not '${text('priority')}'.`);

  const maxBytes = text('maximum_bytes_billed');
  if (maxBytes !== undefined && !/^\d+$/.test(maxBytes)) throw bad('maximum_bytes_billed', `must be a whole number of bytes, not '${maxBytes}'.`);

  const retries = text('job_retries');
  if (retries !== undefined && !/^\d+$/.test(retries)) throw bad('job_retries', `must be a whole number (0 for no retries), not '${retries}'.`);

  const endpoint = text('api_endpoint');
  if (endpoint !== undefined && !/^https?:\/\/[^\s/]+/.test(endpoint)) throw bad('api_endpoint', `must be an http(s) URL such as http://localhost:9050, not '${endpoint}'.`);

  const impersonate = text('impersonate_service_account');
  if (impersonate !== undefined && !impersonate.includes('@')) {
    throw bad('impersonate_service_account', `must be a service account email (name@project.iam.gserviceaccount.com), not '${impersonate}'.`);
  }

  return {
    project: target.database!,
    dataset: target.schema,
    executionProject: text('execution_project') ?? target.database!,
    location: text('location'),
    priority: priority === 'batch' ? 'BATCH' : 'INTERACTIVE',
    maximumBytesBilled: maxBytes,
    jobExecutionTimeoutMs: seconds('job_execution_timeout_seconds') ?? seconds('timeout_seconds'),
    jobCreationTimeoutMs: seconds('job_creation_timeout_seconds'),
    jobRetries: retries === undefined ? 1 : Number(retries),
    jobRetryDeadlineMs: seconds('job_retry_deadline_seconds'),
    apiEndpoint: endpoint?.replace(/\/+$/, ''),
    method: authMethod,
    impersonate,
  };
}

export interface Credentials {
  /** what the SDK authenticates with; undefined: the SDK's own application default credentials */
  authClient?: AuthClient;
  /** the account jobs run as, where known (for permission messages) */
  principal?: string;
  /** how fsql authenticates, for messages: never holds a secret */
  source: string;
}

export interface CredentialOptions {
  /** IAM Credentials API base URL for impersonation (tests point it at a fake server) */
  iamEndpoint?: string;
}

interface ServiceAccountKey {
  type?: string;
  client_email: string;
  private_key: string;
  private_key_id?: string;
  project_id?: string;
  token_uri?: string;
}

/** Builds the credentials the profile asks for. Never reads or prints more of a key than it needs. */
export async function credentialsFor(target: Target, settings: BigQuerySettings, projectDir: string, opts: CredentialOptions = {}): Promise<Credentials> {
  let base: Credentials;
  if (settings.method === 'service-account') {
    const { key, source } = serviceAccountKey(target, projectDir);
    base = { authClient: jwtFor(key, source, target), principal: key.client_email, source };
  } else {
    base = applicationDefault(target);
  }
  if (!settings.impersonate) return base;
  const sourceClient = base.authClient ?? ((await new GoogleAuth({ scopes: BIGQUERY_SCOPES }).getClient()) as AuthClient);
  const impersonated = new Impersonated({
    sourceClient,
    targetPrincipal: settings.impersonate,
    targetScopes: BIGQUERY_SCOPES,
    delegates: [],
    lifetime: 3600,
    ...(opts.iamEndpoint ? { endpoint: opts.iamEndpoint } : {}),
  });
  return { authClient: impersonated, principal: settings.impersonate, source: `${settings.impersonate} impersonated by ${base.principal ?? base.source}` };
}

function serviceAccountKey(target: Target, projectDir: string): { key: ServiceAccountKey; source: string } {
  const s = target.settings;
  const where = `output '${target.name}'`;
  if (s.keyfile && s.keyfile_json) throw new ProjectError(target.profileFile, `${where}: set keyfile or keyfile_json, not both.`);
  if (s.keyfile_json) {
    let json: unknown = s.keyfile_json;
    if (typeof json === 'string') {
      try {
        json = JSON.parse(json);
      } catch {
        throw new ProjectError(target.profileFile, `${where}: keyfile_json is not valid JSON; paste the service-account key as a YAML mapping or as the key file's JSON text.`);
      }
    }
    return { key: checkKey(json, target, 'keyfile_json'), source: 'keyfile_json' };
  }
  if (typeof s.keyfile !== 'string' || s.keyfile === '') {
    throw new ProjectError(target.profileFile, `${where}: method service-account needs keyfile: (path of a service-account JSON key) or keyfile_json:.`);
  }
  const path = isAbsolute(s.keyfile) ? s.keyfile : resolve(projectDir, s.keyfile);
  return { key: readKeyFile(path, target, `keyfile ${path}`), source: `keyfile ${path}` };
}

function readKeyFile(path: string, target: Target, what: string): ServiceAccountKey {
  if (!existsSync(path)) {
    throw new ProjectError(target.profileFile, `output '${target.name}': ${what} does not exist. Download a JSON key of the service account (IAM -> Service accounts -> Keys) and point keyfile at it, or use method: oauth.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new ProjectError(target.profileFile, `output '${target.name}': ${what} is not a JSON key file.`);
  }
  return checkKey(json, target, what);
}

function checkKey(json: unknown, target: Target, what: string): ServiceAccountKey {
  const k = (json ?? {}) as Partial<ServiceAccountKey> & Record<string, unknown>;
  // register first: whatever goes wrong next, the key itself never reaches a message
  if (typeof k.private_key === 'string') {
    registerSecret(k.private_key);
    if (!k.private_key.includes('\n') && k.private_key.includes('\\n')) {
      k.private_key = k.private_key.replace(/\\n/g, '\n');
      registerSecret(k.private_key);
    }
    for (const line of k.private_key.split('\n')) if (line.length >= 16 && !line.startsWith('-----')) registerSecret(line);
  }
  registerSecret(typeof k.private_key_id === 'string' ? k.private_key_id : undefined);
  if (k.type !== undefined && k.type !== 'service_account') {
    throw new ProjectError(target.profileFile, `output '${target.name}': ${what} holds '${String(k.type)}' credentials, not a service-account key. For user or workload credentials use method: oauth (application default credentials).`);
  }
  if (typeof k.client_email !== 'string' || typeof k.private_key !== 'string') {
    throw new ProjectError(target.profileFile, `output '${target.name}': ${what} lacks client_email or private_key; use the JSON key file of a service account as downloaded.`);
  }
  return k as ServiceAccountKey;
}

function jwtFor(key: ServiceAccountKey, source: string, target: Target): JWT {
  const jwt = new JWT({ email: key.client_email, key: key.private_key, keyId: key.private_key_id, scopes: BIGQUERY_SCOPES });
  if (key.token_uri && key.token_uri !== GOOGLE_TOKEN_URL) {
    // Honour the key's token_uri as Google's Python auth (and so dbt-bigquery) does: private
    // deployments and test servers answer the token exchange elsewhere.
    let uri: URL;
    try {
      uri = new URL(key.token_uri);
    } catch {
      throw new ProjectError(target.profileFile, `output '${target.name}': ${source} has token_uri '${key.token_uri}', which is not a URL.`);
    }
    if (uri.protocol !== 'https:' && uri.protocol !== 'http:') throw new ProjectError(target.profileFile, `output '${target.name}': ${source} has a token_uri that is not http(s).`);
    jwt.transporter.interceptors.request.add({
      resolved: async (req) => {
        if (String(req.url) === GOOGLE_TOKEN_URL) req.url = new URL(uri.href);
        return req;
      },
    });
  }
  return jwt;
}

/**
 * Application default credentials: $GOOGLE_APPLICATION_CREDENTIALS, gcloud's
 * `application-default login`, or the metadata server on GCP. A service-account key named by
 * the variable is read like `keyfile:` (so its token_uri is honoured too).
 */
function applicationDefault(target: Target): Credentials {
  const file = process.env.GOOGLE_APPLICATION_CREDENTIALS;
  if (file) {
    if (!existsSync(file)) {
      throw new ProjectError(target.profileFile, `output '${target.name}': method oauth uses application default credentials, and GOOGLE_APPLICATION_CREDENTIALS points at ${file}, which does not exist. Fix or unset the variable.`);
    }
    let type: unknown;
    try {
      type = (JSON.parse(readFileSync(file, 'utf8')) as { type?: unknown }).type;
    } catch {
      throw new ProjectError(target.profileFile, `output '${target.name}': GOOGLE_APPLICATION_CREDENTIALS points at ${file}, which is not a JSON credentials file.`);
    }
    if (type === 'service_account') {
      const key = readKeyFile(file, target, `GOOGLE_APPLICATION_CREDENTIALS (${file})`);
      return { authClient: jwtFor(key, file, target), principal: key.client_email, source: `application default credentials (service account ${key.client_email})` };
    }
  }
  return { source: 'application default credentials' };
}
