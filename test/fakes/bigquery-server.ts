/**
 * A small stand-in for the part of Google's services that @google-cloud/bigquery and
 * google-auth-library talk to, so tests run the real SDK on loopback. Written from the public
 * REST references (cloud.google.com/bigquery/docs/reference/rest/v2, .../api-uploads,
 * developers.google.com/identity/protocols/oauth2/service-account, IAM Credentials v1):
 *
 *   POST /token                                   OAuth JWT-bearer grant: the assertion's RS256
 *                                                 signature is checked against the service account's key
 *   POST /v1/projects/-/serviceAccounts/E:generateAccessToken      impersonation (IAM Credentials)
 *   POST /bigquery/v2/projects/P/jobs             jobs.insert (query jobs, dry runs)
 *   POST /upload/bigquery/v2/projects/P/jobs?uploadType=multipart  load job + file (multipart/related)
 *   GET  /bigquery/v2/projects/P/jobs/J?location= jobs.get
 *   POST /bigquery/v2/projects/P/jobs/J/cancel    jobs.cancel
 *   GET  /bigquery/v2/projects/P/queries/J?maxResults=&pageToken=&formatOptions.useInt64Timestamp=
 *                                                 jobs.getQueryResults, paged
 *   GET  /bigquery/v2/projects/P/datasets/D       datasets.get
 *   GET  /bigquery/v2/projects/P/datasets/D/tables/T               tables.get
 *
 * It runs no SQL. Tests script each query's outcome by a pattern on its text, read every request
 * (with the principal its token belongs to), and inject failures with BigQuery-shaped error bodies.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createVerify, generateKeyPairSync, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export interface Field {
  name: string;
  type: string;
  mode?: 'NULLABLE' | 'REQUIRED' | 'REPEATED';
  fields?: Field[];
}

/** Values by field type: TIMESTAMP as bigint microseconds; INT64 as bigint or string; REPEATED as arrays; RECORD as objects. */
export type FakeValue = string | number | bigint | boolean | null | FakeValue[] | { [k: string]: FakeValue };

export interface FakeResult {
  schema: Field[];
  rows: FakeValue[][];
}

export interface FakeError {
  /** HTTP status of the error answer (derived from the reason when left out) */
  status?: number;
  reason: string;
  message: string;
  location?: string;
}

/** What a query job does. */
export interface QueryOutcome {
  result?: FakeResult;
  /** the job ends DONE with this errorResult (a dry run answers it as an HTTP error) */
  error?: FakeError;
  /** totalBytesProcessed */
  bytes?: bigint | number;
  /** the statement creates or replaces this table (`project.dataset.table`) */
  creates?: { table: string; schema: Field[] };
  /** jobs.get calls answered RUNNING before DONE (default 1; Infinity: never finishes) */
  polls?: number;
}

export type Route =
  | 'token'
  | 'iam'
  | 'jobs.insert'
  | 'upload'
  | 'jobs.get'
  | 'jobs.cancel'
  | 'jobs.getQueryResults'
  | 'datasets.get'
  | 'tables.get';

export interface RecordedRequest {
  route: Route | 'unknown';
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
  /** whose token authorised it */
  principal?: string;
}

export interface FakeJob {
  id: string;
  projectId: string;
  location: string;
  principal?: string;
  configuration: Record<string, unknown> & {
    query?: { query: string; [k: string]: unknown };
    load?: Record<string, unknown>;
    labels?: Record<string, string>;
    dryRun?: boolean;
  };
  outcome: QueryOutcome;
  pollsLeft: number;
  state: 'RUNNING' | 'DONE';
  error?: FakeError;
  /** pages of getQueryResults served: the pageToken asked for (undefined: first page) and rows sent */
  pagesServed: { pageToken?: string; rows: number }[];
  /** the uploaded file, for load jobs */
  upload?: Buffer;
}

interface Script {
  pattern: RegExp;
  outcome: QueryOutcome | ((sql: string) => QueryOutcome);
  times: number;
}

interface Failure {
  route: Route;
  error: FakeError;
  times: number;
  /** handle the request, then answer with the error (a lost answer) */
  afterHandling: boolean;
}

const STATUS_OF: Record<string, number> = {
  invalidQuery: 400,
  invalid: 400,
  bytesBilledLimitExceeded: 400,
  authError: 401,
  accessDenied: 403,
  billingNotEnabled: 403,
  quotaExceeded: 403,
  rateLimitExceeded: 403,
  notFound: 404,
  duplicate: 409,
  backendError: 503,
  internalError: 500,
  timeout: 400,
  stopped: 400,
};

const STATUS_TEXT: Record<number, string> = { 400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 409: 'ALREADY_EXISTS', 500: 'INTERNAL', 503: 'UNAVAILABLE' };

export const BIGQUERY_SCOPE = 'https://www.googleapis.com/auth/bigquery';

export class FakeBigQuery {
  url = '';
  readonly requests: RecordedRequest[] = [];
  readonly jobs = new Map<string, FakeJob>();
  /** rows per getQueryResults page when the client asks for no maxResults */
  pageSize = 1000;
  /** the schema a load job gives its table (default: detected from a CSV; none for other formats) */
  loadSchema?: (load: Record<string, unknown>, data: Buffer) => Field[];
  private server?: Server;
  private readonly scripts: Script[] = [];
  private readonly failures: Failure[] = [];
  private readonly delays: { route: Route; ms: number; times: number }[] = [];
  private readonly datasets = new Map<string, string>();
  private readonly tables = new Map<string, Field[]>();
  private readonly keys = new Map<string, string>();
  private readonly tokens = new Map<string, string>();
  private readonly impersonation = new Set<string>();
  private readonly revoked = new Set<string>();
  private tokenCount = 0;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e) => send(res, 500, { error: { code: 500, message: `fake server bug: ${(e as Error).stack}` } }));
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }

  // ---- set-up --------------------------------------------------------------------------------

  /** A service account whose JSON key (with token_uri pointing here) signs token requests. */
  serviceAccount(email: string, projectId = 'acme-ml'): Record<string, string> {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.keys.set(email, publicKey.export({ type: 'spki', format: 'pem' }).toString());
    return {
      type: 'service_account',
      project_id: projectId,
      private_key_id: randomUUID().replace(/-/g, ''),
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: email,
      client_id: '1234567890',
      auth_uri: 'https://accounts.google.com/o/oauth2/auth',
      token_uri: `${this.url}/token`,
    };
  }

  /** The key was deleted in IAM: token requests signed with it are refused. */
  revokeKey(email: string): void {
    this.revoked.add(email);
  }

  allowImpersonation(source: string, target: string): void {
    this.impersonation.add(`${source}->${target}`);
  }

  dataset(project: string, dataset: string, location = 'US'): void {
    this.datasets.set(`${project}:${dataset}`, location);
  }

  table(fullName: string, schema: Field[]): void {
    this.tables.set(fullName, schema);
  }

  hasTable(fullName: string): boolean {
    return this.tables.has(fullName);
  }

  /** Scripts the outcome of query jobs whose SQL matches (latest script first). */
  onQuery(pattern: RegExp, outcome: QueryOutcome | ((sql: string) => QueryOutcome), times = Infinity): void {
    this.scripts.unshift({ pattern, outcome, times });
  }

  /** The next `times` requests of `route` are answered only after `ms` milliseconds. */
  delay(route: Route, ms: number, times = 1): void {
    this.delays.push({ route, ms, times });
  }

  /** The next `times` requests of `route` fail with `error`. */
  fail(route: Route, error: FakeError, opts: { times?: number; afterHandling?: boolean } = {}): void {
    this.failures.push({ route, error, times: opts.times ?? 1, afterHandling: opts.afterHandling ?? false });
  }

  /** SQL of every jobs.insert query job (dry runs included), in arrival order. */
  queries(): string[] {
    return this.requests
      .filter((r) => r.route === 'jobs.insert')
      .map((r) => (r.body as { configuration?: { query?: { query?: string } } }).configuration?.query?.query)
      .filter((q): q is string => typeof q === 'string');
  }

  routes(): string[] {
    return this.requests.map((r) => r.route);
  }

  // ---- HTTP ----------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const raw = await readBody(req);
    const route = routeOf(req.method ?? 'GET', url.pathname);
    const contentType = String(req.headers['content-type'] ?? '');
    let body: unknown = raw.toString('utf8');
    if (contentType.startsWith('application/json') && raw.length > 0) body = JSON.parse(raw.toString('utf8'));
    if (contentType.startsWith('application/x-www-form-urlencoded')) body = Object.fromEntries(new URLSearchParams(raw.toString('utf8')));
    let upload: { metadata: Record<string, unknown>; data: Buffer } | undefined;
    if (contentType.startsWith('multipart/related')) {
      upload = parseMultipart(raw, contentType);
      body = upload.metadata;
    }
    const principal = this.principalOf(req);
    const record: RecordedRequest = { route, method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, body, principal };
    this.requests.push(record);

    if (route === 'token') return this.token(res, body as Record<string, string>);
    if (route === 'unknown') return send(res, 404, { error: { code: 404, message: `fake BigQuery: no route ${req.method} ${url.pathname}`, status: 'NOT_FOUND' } });

    if (!principal) {
      return sendError(res, { status: 401, reason: 'authError', message: 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.' });
    }
    if (route === 'iam') return this.impersonate(res, principal, url.pathname);

    const delay = this.delays.find((d) => d.route === route && d.times > 0);
    if (delay) {
      delay.times--;
      await new Promise((r) => setTimeout(r, delay.ms));
    }
    const failure = this.takeFailure(route);
    if (failure && !failure.afterHandling) return sendError(res, failure.error);
    const answer = this.answer(route, url, body, principal, upload);
    if (failure) return sendError(res, failure.error);
    send(res, answer.status, answer.body);
  }

  private answer(route: Route, url: URL, body: unknown, principal: string, upload?: { metadata: Record<string, unknown>; data: Buffer }): { status: number; body: unknown } {
    const parts = url.pathname.split('/').map(decodeURIComponent);
    const project = parts[parts.indexOf('projects') + 1];
    switch (route) {
      case 'jobs.insert':
        return this.insert(project, body as JobBody, principal);
      case 'upload':
        return this.insert(project, upload!.metadata as unknown as JobBody, principal, upload!.data);
      case 'jobs.get':
      case 'jobs.cancel': {
        const job = this.jobs.get(parts[parts.indexOf('jobs') + 1]);
        if (!job) return errorAnswer({ reason: 'notFound', message: `Not found: Job ${project}:${parts[parts.indexOf('jobs') + 1]}` });
        if (route === 'jobs.cancel') {
          if (job.state !== 'DONE') {
            job.state = 'DONE';
            job.error = { reason: 'stopped', message: 'Job execution was cancelled: User requested cancellation' };
          }
          return { status: 200, body: { kind: 'bigquery#jobCancelResponse', job: this.resource(job) } };
        }
        if (job.state !== 'DONE' && --job.pollsLeft <= 0) job.state = 'DONE';
        return { status: 200, body: this.resource(job) };
      }
      case 'jobs.getQueryResults':
        return this.results(parts[parts.indexOf('queries') + 1], project, url.searchParams);
      case 'datasets.get': {
        const dataset = parts[parts.indexOf('datasets') + 1];
        const location = this.datasets.get(`${project}:${dataset}`);
        if (!location) return errorAnswer({ reason: 'notFound', message: `Not found: Dataset ${project}:${dataset}` });
        return { status: 200, body: { kind: 'bigquery#dataset', id: `${project}:${dataset}`, datasetReference: { projectId: project, datasetId: dataset }, location } };
      }
      case 'tables.get': {
        const dataset = parts[parts.indexOf('datasets') + 1];
        const table = parts[parts.indexOf('tables') + 1];
        if (!this.datasets.has(`${project}:${dataset}`)) return errorAnswer({ reason: 'notFound', message: `Not found: Dataset ${project}:${dataset}` });
        const schema = this.tables.get(`${project}.${dataset}.${table}`);
        if (!schema) return errorAnswer({ reason: 'notFound', message: `Not found: Table ${project}:${dataset}.${table}` });
        return {
          status: 200,
          body: { kind: 'bigquery#table', id: `${project}:${dataset}.${table}`, tableReference: { projectId: project, datasetId: dataset, tableId: table }, schema: { fields: schema }, type: 'TABLE' },
        };
      }
      default:
        return errorAnswer({ reason: 'notFound', message: `fake BigQuery: unhandled ${route}` });
    }
  }

  private insert(project: string, body: JobBody, principal: string, data?: Buffer): { status: number; body: unknown } {
    const ref = body.jobReference ?? {};
    const id = ref.jobId ?? randomUUID();
    const location = ref.location ?? 'US';
    const configuration = body.configuration ?? {};
    if (this.jobs.has(id)) return errorAnswer({ reason: 'duplicate', message: `Already Exists: Job ${project}:${location}.${id}` });
    let outcome: QueryOutcome;
    if (configuration.load) outcome = this.load(configuration.load as LoadConfig, data ?? Buffer.alloc(0));
    else if (configuration.query) outcome = this.outcomeOf(String(configuration.query.query));
    else return errorAnswer({ reason: 'invalid', message: 'fake BigQuery: a job needs configuration.query or configuration.load' });

    if (configuration.dryRun) {
      if (outcome.error) return errorAnswer(outcome.error);
      return {
        status: 200,
        body: {
          kind: 'bigquery#job',
          configuration: { ...configuration, jobType: 'QUERY' },
          jobReference: { projectId: project, location },
          statistics: { totalBytesProcessed: String(outcome.bytes ?? 0), query: { totalBytesProcessed: String(outcome.bytes ?? 0), statementType: 'SELECT' } },
          status: { state: 'DONE' },
        },
      };
    }
    const job: FakeJob = { id, projectId: project, location, principal, configuration, outcome, pollsLeft: outcome.polls ?? 1, state: 'RUNNING', error: outcome.error, pagesServed: [], upload: data };
    if (!outcome.error && outcome.creates) this.tables.set(outcome.creates.table, outcome.creates.schema);
    this.jobs.set(id, job);
    if (job.pollsLeft <= 0) job.state = 'DONE';
    return { status: 200, body: this.resource(job) };
  }

  private outcomeOf(sql: string): QueryOutcome {
    for (const s of this.scripts) {
      if (s.times > 0 && s.pattern.test(sql)) {
        s.times--;
        return typeof s.outcome === 'function' ? s.outcome(sql) : s.outcome;
      }
    }
    const created = /^\s*create\s+or\s+replace\s+(?:table|view)\s+`([^`]+)`/i.exec(sql);
    if (created) return this.inDataset(created[1], { creates: { table: created[1], schema: [] } });
    const merged = /^\s*merge\s+into\s+`([^`]+)`/i.exec(sql);
    if (merged) return this.inDataset(merged[1], this.tables.has(merged[1]) ? {} : { error: { reason: 'notFound', message: `Not found: Table ${colon(merged[1])}` } });
    const dropped = /^\s*drop\s+(?:table|view)\s+if\s+exists\s+`([^`]+)`/i.exec(sql);
    if (dropped) {
      this.tables.delete(dropped[1]);
      return {};
    }
    if (/^\s*begin\s+transaction\s*;/i.test(sql) || /^\s*(insert|delete|update)\b/i.test(sql)) return {};
    return { error: { reason: 'invalidQuery', message: `fake BigQuery has no scripted answer for: ${sql.slice(0, 80)}` } };
  }

  /** Writing into a dataset that does not exist fails the way BigQuery fails. */
  private inDataset(table: string, outcome: QueryOutcome): QueryOutcome {
    const [project, dataset] = table.split('.');
    if (!this.datasets.has(`${project}:${dataset}`)) return { error: { reason: 'notFound', message: `Not found: Dataset ${project}:${dataset} was not found in location US` } };
    return outcome;
  }

  private load(load: LoadConfig, data: Buffer): QueryOutcome {
    const dest = load.destinationTable ?? {};
    const table = `${dest.projectId}.${dest.datasetId}.${dest.tableId}`;
    if (!this.datasets.has(`${dest.projectId}:${dest.datasetId}`)) return { error: { reason: 'notFound', message: `Not found: Dataset ${dest.projectId}:${dest.datasetId}` } };
    const schema = this.loadSchema?.(load as Record<string, unknown>, data) ?? (load.sourceFormat === 'CSV' ? csvSchema(data.toString('utf8')) : []);
    return { creates: { table, schema } };
  }

  private results(jobId: string, project: string, q: URLSearchParams): { status: number; body: unknown } {
    const job = this.jobs.get(jobId);
    if (!job) return errorAnswer({ reason: 'notFound', message: `Not found: Job ${project}:${jobId}` });
    const jobReference = { projectId: job.projectId, jobId: job.id, location: job.location };
    if (job.state !== 'DONE') return { status: 200, body: { kind: 'bigquery#getQueryResultsResponse', jobReference, jobComplete: false } };
    if (job.error) return errorAnswer(job.error);
    const result = job.outcome.result ?? { schema: [], rows: [] };
    const token = q.get('pageToken') ?? undefined;
    const start = token ? Number(Buffer.from(token, 'base64url').toString().split(':')[1]) : 0;
    const size = Math.min(q.has('maxResults') ? Number(q.get('maxResults')) : Infinity, this.pageSize);
    const rows = result.rows.slice(start, start + size);
    const int64Timestamps = q.get('formatOptions.useInt64Timestamp') === 'true';
    const end = start + rows.length;
    job.pagesServed.push({ pageToken: token, rows: rows.length });
    return {
      status: 200,
      body: {
        kind: 'bigquery#getQueryResultsResponse',
        etag: randomUUID(),
        schema: { fields: result.schema },
        jobReference,
        totalRows: String(result.rows.length),
        ...(end < result.rows.length ? { pageToken: Buffer.from(`${job.id}:${end}`).toString('base64url') } : {}),
        ...(rows.length > 0 ? { rows: rows.map((r) => ({ f: result.schema.map((field, i) => ({ v: encode(field, r[i], int64Timestamps) })) })) } : {}),
        totalBytesProcessed: String(job.outcome.bytes ?? 0),
        jobComplete: true,
        cacheHit: false,
      },
    };
  }

  private resource(job: FakeJob): unknown {
    return {
      kind: 'bigquery#job',
      etag: randomUUID(),
      id: `${job.projectId}:${job.location}.${job.id}`,
      selfLink: `${this.url}/bigquery/v2/projects/${job.projectId}/jobs/${job.id}?location=${job.location}`,
      user_email: job.principal,
      configuration: { ...job.configuration, jobType: job.configuration.load ? 'LOAD' : 'QUERY' },
      jobReference: { projectId: job.projectId, jobId: job.id, location: job.location },
      statistics: { creationTime: String(Date.now()), totalBytesProcessed: String(job.outcome.bytes ?? 0) },
      status:
        job.state === 'DONE'
          ? { state: 'DONE', ...(job.error ? { errorResult: errorItem(job.error), errors: [errorItem(job.error)] } : {}) }
          : { state: 'RUNNING' },
    };
  }

  private takeFailure(route: Route): Failure | undefined {
    const f = this.failures.find((x) => x.route === route && x.times > 0);
    if (f) f.times--;
    return f;
  }

  // ---- auth ----------------------------------------------------------------------------------

  private principalOf(req: IncomingMessage): string | undefined {
    const m = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''));
    return m ? this.tokens.get(m[1]) : undefined;
  }

  /** RFC 7523 JWT bearer grant, as Google's token endpoint takes it from a service account. */
  private token(res: ServerResponse, form: Record<string, string>): void {
    const failure = this.takeFailure('token');
    if (failure) return send(res, failure.error.status ?? 400, { error: failure.error.reason, error_description: failure.error.message });
    if (form.grant_type !== 'urn:ietf:params:oauth:grant-type:jwt-bearer' || !form.assertion) {
      return send(res, 400, { error: 'unsupported_grant_type', error_description: 'Invalid grant_type.' });
    }
    const [h, p, sig] = form.assertion.split('.');
    const claims = JSON.parse(Buffer.from(p ?? '', 'base64url').toString('utf8')) as { iss?: string; scope?: string; exp?: number };
    const key = claims.iss ? this.keys.get(claims.iss) : undefined;
    const valid = key !== undefined && createVerify('RSA-SHA256').update(`${h}.${p}`).verify(key, Buffer.from(sig ?? '', 'base64url'));
    if (!valid || this.revoked.has(claims.iss!)) return send(res, 400, { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' });
    if (!claims.exp || claims.exp * 1000 < Date.now()) return send(res, 400, { error: 'invalid_grant', error_description: 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.' });
    if (!String(claims.scope ?? '').split(' ').includes(BIGQUERY_SCOPE) && !String(claims.scope ?? '').includes('cloud-platform')) {
      return send(res, 400, { error: 'invalid_scope', error_description: 'The token does not grant BigQuery.' });
    }
    const token = `fake-token-${++this.tokenCount}`;
    this.tokens.set(token, claims.iss!);
    send(res, 200, { access_token: token, expires_in: 3600, token_type: 'Bearer' });
  }

  private impersonate(res: ServerResponse, source: string, path: string): void {
    const failure = this.takeFailure('iam');
    if (failure) return send(res, failure.error.status ?? 500, { error: { code: failure.error.status ?? 500, message: failure.error.message, status: STATUS_TEXT[failure.error.status ?? 500] } });
    const target = decodeURIComponent(/serviceAccounts\/([^:/]+):generateAccessToken$/.exec(path)?.[1] ?? '');
    if (!this.impersonation.has(`${source}->${target}`)) {
      return send(res, 403, { error: { code: 403, message: "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).", status: 'PERMISSION_DENIED' } });
    }
    const token = `fake-impersonated-${++this.tokenCount}`;
    this.tokens.set(token, target);
    send(res, 200, { accessToken: token, expireTime: new Date(Date.now() + 3600_000).toISOString() });
  }
}

interface JobBody {
  jobReference?: { projectId?: string; jobId?: string; location?: string };
  configuration?: FakeJob['configuration'];
}

interface LoadConfig {
  destinationTable?: { projectId?: string; datasetId?: string; tableId?: string };
  sourceFormat?: string;
}

function routeOf(method: string, path: string): Route | 'unknown' {
  if (method === 'POST' && path === '/token') return 'token';
  if (method === 'POST' && /^\/v1\/projects\/-\/serviceAccounts\/[^/]+:generateAccessToken$/.test(path)) return 'iam';
  if (method === 'POST' && /^\/upload\/bigquery\/v2\/projects\/[^/]+\/jobs$/.test(path)) return 'upload';
  const m = /^\/bigquery\/v2\/projects\/[^/]+\/(.*)$/.exec(path);
  if (!m) return 'unknown';
  const rest = m[1];
  if (method === 'POST' && rest === 'jobs') return 'jobs.insert';
  if (method === 'GET' && /^jobs\/[^/]+$/.test(rest)) return 'jobs.get';
  if (method === 'POST' && /^jobs\/[^/]+\/cancel$/.test(rest)) return 'jobs.cancel';
  if (method === 'GET' && /^queries\/[^/]+$/.test(rest)) return 'jobs.getQueryResults';
  if (method === 'GET' && /^datasets\/[^/]+$/.test(rest)) return 'datasets.get';
  if (method === 'GET' && /^datasets\/[^/]+\/tables\/[^/]+$/.test(rest)) return 'tables.get';
  return 'unknown';
}

function colon(table: string): string {
  const [p, d, t] = table.split('.');
  return `${p}:${d}.${t}`;
}

function errorItem(e: FakeError): Record<string, string> {
  return { reason: e.reason, message: e.message, ...(e.location ? { location: e.location } : {}) };
}

function errorAnswer(e: FakeError): { status: number; body: unknown } {
  const status = e.status ?? STATUS_OF[e.reason] ?? 400;
  return { status, body: { error: { code: status, message: e.message, errors: [{ ...errorItem(e), domain: 'global' }], status: STATUS_TEXT[status] ?? 'UNKNOWN' } } };
}

function sendError(res: ServerResponse, e: FakeError): void {
  const { status, body } = errorAnswer(e);
  send(res, status, body);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** multipart/related: part 1 the job resource (JSON), part 2 the file. */
function parseMultipart(raw: Buffer, contentType: string): { metadata: Record<string, unknown>; data: Buffer } {
  const boundary = /boundary=("?)([^";]+)\1/.exec(contentType)?.[2];
  if (!boundary) throw new Error('multipart body without boundary');
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Buffer[] = [];
  let from = raw.indexOf(delimiter);
  while (from !== -1) {
    const next = raw.indexOf(delimiter, from + delimiter.length);
    if (next === -1) break;
    parts.push(raw.subarray(from + delimiter.length, next));
    from = next;
  }
  const content = (part: Buffer) => {
    const start = part.indexOf('\r\n\r\n') + 4;
    let end = part.length;
    if (part.subarray(end - 2).toString() === '\r\n') end -= 2;
    return part.subarray(start, end);
  };
  return { metadata: JSON.parse(content(parts[0]).toString('utf8')), data: content(parts[1]) };
}

/** A CSV's schema, detected the simple way BigQuery's autodetect would for plain values. */
function csvSchema(text: string): Field[] {
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  const header = lines[0]?.split(',') ?? [];
  const values = lines.slice(1).map((l) => l.split(','));
  return header.map((name, i) => {
    const col = values.map((v) => v[i] ?? '');
    const type = col.every((v) => /^-?\d+$/.test(v))
      ? 'INTEGER'
      : col.every((v) => /^-?\d+(\.\d+)?$/.test(v))
        ? 'FLOAT'
        : col.every((v) => /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}/.test(v))
          ? 'TIMESTAMP'
          : 'STRING';
    return { name, type, mode: 'NULLABLE' as const };
  });
}

/** A value in the REST format of its field. */
function encode(field: Field, v: FakeValue | undefined, int64Timestamps: boolean): unknown {
  if (field.mode === 'REPEATED') return ((v ?? []) as FakeValue[]).map((x) => ({ v: encodeScalar(field, x, int64Timestamps) }));
  return encodeScalar(field, v ?? null, int64Timestamps);
}

function encodeScalar(field: Field, v: FakeValue, int64Timestamps: boolean): unknown {
  if (v === null) return null;
  switch (field.type) {
    case 'TIMESTAMP': {
      const micros = BigInt(v as bigint);
      // without useInt64Timestamp BigQuery sends float seconds, which lose microseconds
      return int64Timestamps ? micros.toString() : (Number(micros) / 1e6).toExponential().replace('e+', 'E');
    }
    case 'RECORD':
    case 'STRUCT':
      return { f: (field.fields ?? []).map((sub) => ({ v: encode(sub, (v as Record<string, FakeValue>)[sub.name], int64Timestamps) })) };
    case 'FLOAT':
    case 'FLOAT64':
      return Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : String(v);
    default:
      return String(v);
  }
}
