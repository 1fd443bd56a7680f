/**
 * BigQuery failures -> WarehouseErrors a user can act on: which credential, which role on which
 * project or dataset, which view file and line. Also decides what is worth retrying.
 */
import { WarehouseError } from '../errors.js';
import type { BigQuerySettings } from './bigquery-auth.js';

/** A job that ran and ended with `status.errorResult`. */
export class JobFailed extends Error {
  constructor(
    readonly jobId: string,
    readonly reason: string | undefined,
    readonly detail: string,
    readonly location?: string,
  ) {
    super(detail);
  }
}

/** The job did not finish within job_execution_timeout_seconds (fsql cancelled it). */
export class JobTimedOut extends Error {
  constructor(readonly jobId: string) {
    super(`job ${jobId} timed out`);
  }
}

/** What every failure boils down to. */
export interface FailureInfo {
  /** HTTP status, when the failure was an HTTP answer */
  status?: number;
  /** BigQuery's `reason` (notFound, accessDenied, invalidQuery, backendError, ...) or OAuth's `error` */
  reason?: string;
  message: string;
  /** a network failure code (ECONNRESET, ...) */
  network?: string;
  /** which service answered: BigQuery itself, the OAuth token endpoint, or IAM Credentials (impersonation) */
  service: 'bigquery' | 'token' | 'iam' | 'adc';
}

const TRANSIENT_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const TRANSIENT_REASONS = new Set(['backendError', 'internalError', 'rateLimitExceeded', 'jobBackendError', 'jobInternalError', 'jobRateLimitExceeded']);
const TRANSIENT_NETWORK = new Set(['ECONNRESET', 'ETIMEDOUT', 'EAI_AGAIN', 'EPIPE', 'ESOCKETTIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'TIMEOUT']);

export function failureInfo(e: unknown): FailureInfo {
  if (e instanceof JobFailed) return { reason: e.reason, message: e.detail, service: 'bigquery' };
  if (e instanceof JobTimedOut) return { reason: 'timeout', message: e.message, service: 'bigquery' };
  const err = (e ?? {}) as {
    code?: unknown;
    status?: unknown;
    message?: string;
    errors?: { reason?: string; message?: string }[];
    response?: { status?: number; data?: unknown; config?: { url?: unknown } };
    config?: { url?: unknown };
    cause?: { code?: unknown; message?: string };
    name?: string;
    type?: string;
  };
  const message = String(err.message ?? e);
  if (/Could not load the default credentials|Unable to detect a Project Id/i.test(message)) return { reason: 'noCredentials', message, service: 'adc' };
  // google-auth-library (gaxios): the OAuth token endpoint or IAM Credentials answered
  if (err.response && err.response.data !== undefined && (err.config || err.response.config)) {
    const url = String(err.config?.url ?? err.response.config?.url ?? '');
    const data = err.response.data as { error?: unknown; error_description?: string } | undefined;
    if (typeof data?.error === 'string') return { status: err.response.status, reason: data.error, message, service: 'token' };
    if (/iamcredentials|generateAccessToken/.test(url)) {
      const inner = data?.error as { message?: string; status?: string } | undefined;
      return { status: err.response.status, reason: inner?.status, message: inner?.message ?? message, service: 'iam' };
    }
  }
  const code = typeof err.code === 'string' ? err.code : typeof err.cause?.code === 'string' ? err.cause.code : undefined;
  if (code && /^[A-Z_]+$/.test(code)) return { network: code, message: err.cause?.message ?? message, service: 'bigquery' };
  if (/socket hang up|network timeout|fetch failed/i.test(message) || err.type === 'request-timeout' || err.name === 'AbortError' || err.name === 'TimeoutError') {
    return { network: 'TIMEOUT', message, service: 'bigquery' };
  }
  // @google-cloud/common's ApiError: HTTP status in `code`, BigQuery's error list in `errors`
  const status = typeof err.code === 'number' ? err.code : typeof err.status === 'number' ? err.status : undefined;
  const first = Array.isArray(err.errors) ? err.errors[0] : undefined;
  return { status, reason: first?.reason, message: first?.message ?? message, service: 'bigquery' };
}

export function isTransient(info: FailureInfo): boolean {
  if (info.service !== 'bigquery') return info.status !== undefined && info.status >= 500;
  if (info.network) return TRANSIENT_NETWORK.has(info.network);
  if (info.reason && TRANSIENT_REASONS.has(info.reason)) return true;
  return info.status !== undefined && TRANSIENT_STATUS.has(info.status);
}

export interface ErrorContext {
  settings: BigQuerySettings;
  profileFile: string;
  /** the account jobs run as, where known */
  principal?: string;
  /** how fsql authenticated (keyfile path, ADC, impersonation) */
  credentialSource: string;
  /** the view file or operation, from ExecuteOptions.label */
  label?: string;
  /** the SQL sent, for pointing at the line of a query error */
  sql?: string;
  /** how many times it was tried */
  attempts: number;
  /** the API base URL, for network errors */
  endpoint: string;
}

/** The message a user reads; always names what to do next. */
export function warehouseError(e: unknown, ctx: ErrorContext): WarehouseError {
  const info = failureInfo(e);
  const prefix = ctx.label ? `${ctx.label}: ` : '';
  return new WarehouseError(`${prefix}${explain(info, ctx)}`);
}

function explain(info: FailureInfo, ctx: ErrorContext): string {
  const s = ctx.settings;
  const who = ctx.principal ?? 'the account fsql runs as';
  const profile = ctx.profileFile;
  const text = info.message.trim();

  if (info.service === 'adc') {
    return `no Google credentials found (method: oauth uses application default credentials). Run 'gcloud auth application-default login', set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file, or use method: service-account with keyfile: in ${profile}.`;
  }
  if (info.service === 'token') {
    return `Google rejected the credentials of ${who} (${ctx.credentialSource}): ${text}. The key may have been deleted, disabled or rotated: create a new key for the service account and point keyfile at it (${profile}).`;
  }
  if (info.service === 'iam') {
    if (info.status === 403 || info.status === 401) {
      return `cannot impersonate ${s.impersonate} (${text}). Grant ${ctx.credentialSource.replace(/^.* impersonated by /, '')} the role roles/iam.serviceAccountTokenCreator on ${s.impersonate}, and enable the IAM Service Account Credentials API.`;
    }
    if (info.status === 404) return `cannot impersonate ${s.impersonate}: no such service account (${text}). Check impersonate_service_account in ${profile}.`;
    return `impersonating ${s.impersonate} failed: ${text}`;
  }
  if (info.network) {
    const where = s.apiEndpoint ? `${ctx.endpoint} (api_endpoint in ${profile})` : ctx.endpoint;
    return `cannot reach BigQuery at ${where}: ${info.network} ${text}${ctx.attempts > 1 ? ` (tried ${ctx.attempts} times)` : ''}. Check the network connection and any proxy settings.`;
  }
  if (isTransient(info)) {
    return `BigQuery failed with a transient error (${describe(info)}) ${ctx.attempts} time${ctx.attempts === 1 ? '' : 's'}, retrying with backoff in between. Try again later; job_retries: ${s.jobRetries} in ${profile} sets how often fsql retries.`;
  }
  if (info.reason === 'timeout' || /job timed out|timed out after/i.test(text)) {
    const limit = s.jobExecutionTimeoutMs ? `${s.jobExecutionTimeoutMs / 1000} s` : 'its limit';
    return `the BigQuery job did not finish within job_execution_timeout_seconds (${limit}) and was cancelled. Raise job_execution_timeout_seconds in ${profile}, or build less at once (--select, --start).`;
  }
  if (info.status === 401 || info.reason === 'authError' || info.reason === 'unauthorized') {
    return `BigQuery did not accept the credentials of ${who} (${ctx.credentialSource}): ${text}. Check that the key or login is current and the account is enabled.`;
  }
  if (info.reason === 'billingNotEnabled') return `billing is not enabled for project ${s.executionProject}: ${text}. Enable billing, or set execution_project in ${profile} to a project that has it.`;
  if (info.reason === 'quotaExceeded') return `a BigQuery quota of project ${s.executionProject} is used up: ${text}. Wait for it to reset or ask for more quota.`;
  if (info.reason === 'bytesBilledLimitExceeded' || /maximum bytes billed|bytes billed/i.test(text)) {
    return `the query would bill more than maximum_bytes_billed (${s.maximumBytesBilled ?? '?'} bytes): ${text}. Raise maximum_bytes_billed in ${profile}, or read less (--select, or --start for incremental views).`;
  }
  if (info.status === 403 || info.reason === 'accessDenied' || info.reason === 'forbidden') return permissionDenied(text, who, s);
  if (info.status === 404 || info.reason === 'notFound') return notFound(text, s, profile);
  if (info.reason === 'invalidQuery' || info.reason === 'invalid' || info.status === 400) return queryError(text, ctx.sql, ctx.label);
  return `BigQuery: ${describe(info)}`;
}

function describe(info: FailureInfo): string {
  const code = [info.status, info.reason].filter((x) => x !== undefined).join(' ');
  return code ? `${code}: ${info.message}` : info.message;
}

function permissionDenied(text: string, who: string, s: BigQuerySettings): string {
  const base = `permission denied for ${who}: ${text}.`;
  if (/bigquery\.jobs\.create/i.test(text)) {
    return `${base} Grant ${who} the role roles/bigquery.jobUser on project ${s.executionProject} (jobs run there).`;
  }
  if (/bigquery\.datasets\.(create|get)|bigquery\.tables\.(create|updateData|update|delete)/i.test(text)) {
    return `${base} Grant ${who} the role roles/bigquery.dataEditor on dataset ${s.project}:${s.dataset} (fsql writes the feature tables there).`;
  }
  return `${base} fsql needs roles/bigquery.jobUser on project ${s.executionProject}, roles/bigquery.dataEditor on dataset ${s.project}:${s.dataset}, and roles/bigquery.dataViewer on the datasets the sources read (see README: Production, BigQuery).`;
}

function notFound(text: string, s: BigQuerySettings, profile: string): string {
  const ds = /Dataset ([\w.-]+):([\w]+)/.exec(text);
  if (ds) {
    const [, project, dataset] = ds;
    const where = s.location ?? 'US';
    if (project === s.project && dataset === s.dataset) {
      return `dataset ${project}:${dataset} does not exist${s.location ? ` in location ${s.location}` : ''} (${text}). Create it (bq --location=${where} mk --dataset ${project}:${dataset}) or fix project:, dataset: or location: in ${profile}.`;
    }
    return `dataset ${project}:${dataset} does not exist (${text}). A source or ref points at it: check the source's schema:/database: in the models' YAML, and location: in ${profile}.`;
  }
  if (/Table /.test(text)) {
    return `${text}. Build the upstream views first (fsql run --select +<view>), or check the source's schema:/identifier: in the models' YAML.`;
  }
  return `not found: ${text}.`;
}

/** BigQuery writes `at [line:column]`; show that line of the SQL sent. */
function queryError(text: string, sql: string | undefined, label: string | undefined): string {
  const at = /\[(\d+):(\d+)\]/.exec(text);
  let where = '';
  if (at && sql) {
    const line = sql.split('\n')[Number(at[1]) - 1];
    if (line !== undefined) where = `\n  line ${at[1]} of the statement: ${line.trim()}`;
  }
  const fix = label?.endsWith('.sql') ? `\n  Fix the view's SELECT in ${label}; 'fsql compile' writes the SQL BigQuery gets under target/compiled/.` : '';
  return `BigQuery rejected the SQL: ${text}.${where}${fix}`;
}
