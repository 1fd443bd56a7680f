/**
 * The BigQuery adapter on @google-cloud/bigquery. It uses the SDK for what the SDK is for
 * (credentials, authenticated requests to the right endpoint, error bodies) and speaks the REST
 * resources itself, so that what is sent is exactly the API reference's shape: every statement is
 * a labelled query job (jobs.insert, then jobs.get until DONE), results are read page by page
 * with jobs.getQueryResults and decoded here (INT64 exact, timestamps to the microsecond), table
 * schemas come from tables.get, files go up through the multipart upload endpoint as load jobs.
 * Transient failures are retried with exponential backoff, `job_retries` times (dbt's default 1).
 */
import { createReadStream, existsSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { randomUUID } from 'node:crypto';
import { BigQuery } from '@google-cloud/bigquery';
import type { RelationName } from '../plans/relation.js';
import { dialectFor } from '../dialects/index.js';
import { retrying, sleep, type RetriesExhausted, type RetryPolicy } from './retry.js';
import { FsqlError, WarehouseError } from '../errors.js';
import type { Target } from '../project/types.js';
import { batchesFromRows, type ColumnBatch } from '../column-batch.js';
import type { Column, Row } from '../values.js';
import { BIGQUERY_SCOPES, credentialsFor, readSettings, type BigQuerySettings, type Credentials } from './bigquery-auth.js';
import { failureInfo, isTransient, JobFailed, JobTimedOut, warehouseError, type ErrorContext } from './bigquery-errors.js';
import { columnsOf, rowDecoder, type FieldSchema, type WireRow } from './bigquery-types.js';
import type { ExecuteOptions, Validation, Warehouse } from './warehouse.js';

export interface BigQueryOpenOptions {
  /** the fsql project's name, for job labels */
  projectName: string;
  /** relative keyfile paths resolve against it */
  projectDir: string;
  /** first delay of the retry backoff in ms (default 1000; doubles each retry, capped at 32 s) */
  retryBaseMs?: number;
  /** first delay between jobs.get polls in ms (default 250; grows to 3 s) */
  pollMs?: number;
  /** IAM Credentials API base URL for impersonate_service_account (tests use a fake) */
  iamEndpoint?: string;
}

interface JobReference {
  projectId: string;
  jobId?: string;
  location?: string;
}

interface JobResource {
  jobReference: JobReference;
  status?: { state?: string; errorResult?: { reason?: string; message?: string; location?: string }; errors?: unknown[] };
  statistics?: { totalBytesProcessed?: string; query?: { totalBytesProcessed?: string } };
}

interface QueryResultsPage {
  jobComplete?: boolean;
  schema?: { fields?: FieldSchema[] };
  rows?: WireRow[];
  pageToken?: string;
  totalRows?: string;
}

interface TableResource {
  schema?: { fields?: FieldSchema[] };
}

interface DatasetResource {
  location?: string;
}

type RequestOptions = Parameters<BigQuery['request']>[0];

/** Label keys and values: lowercase letters, digits, `_` and `-`, at most 63 characters. */
function labelValue(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9_-]+/g, '_').slice(0, 63);
}

/** A view file (models/user/x.sql) is labelled by its view name. */
function labelFor(label: string | undefined): string | undefined {
  if (!label) return undefined;
  return labelValue(label.endsWith('.sql') ? basename(label, '.sql') : label);
}


export class BigQueryWarehouse implements Warehouse {
  readonly dialect = dialectFor('bigquery');
  private readonly invocation = randomUUID();
  private readonly retryBaseMs: number;
  private readonly pollMs: number;

  private constructor(
    readonly target: Target,
    private readonly settings: BigQuerySettings,
    private readonly credentials: Credentials,
    private readonly bq: BigQuery,
    private readonly opts: BigQueryOpenOptions,
  ) {
    this.retryBaseMs = opts.retryBaseMs ?? 1000;
    this.pollMs = opts.pollMs ?? 250;
  }

  /** Reads the profile, builds credentials, and checks the dataset exists (so bad credentials show up once, first). */
  static async open(target: Target, opts: BigQueryOpenOptions): Promise<BigQueryWarehouse> {
    const settings = readSettings(target);
    let credentials: Credentials;
    try {
      credentials = await credentialsFor(target, settings, opts.projectDir, { iamEndpoint: opts.iamEndpoint });
    } catch (e) {
      if (e instanceof FsqlError) throw e;
      throw warehouseError(e, { settings, profileFile: target.profileFile, credentialSource: 'application default credentials', attempts: 1, endpoint: settings.apiEndpoint ?? 'https://bigquery.googleapis.com' });
    }
    const bq = new BigQuery({
      projectId: settings.executionProject,
      location: settings.location,
      ...(settings.apiEndpoint ? { apiEndpoint: settings.apiEndpoint } : {}),
      // no authClient: the SDK's own application default credentials
      ...(credentials.authClient ? { authClient: credentials.authClient } : { scopes: BIGQUERY_SCOPES }),
      // fsql retries itself, job_retries times, so that the profile's number is the number
      retryOptions: { autoRetry: false, maxRetries: 0 },
      userAgent: 'fsql',
    });
    const wh = new BigQueryWarehouse(target, settings, credentials, bq, opts);
    await wh.checkDataset();
    return wh;
  }

  async execute(statements: string | string[], opts: ExecuteOptions = {}): Promise<void> {
    const list = typeof statements === 'string' ? [statements] : statements;
    if (opts.atomic && list.length > 1) {
      // one script, one transaction: all or nothing (BigQuery transactions hold DML only)
      const script = this.dialect.transactionScript(list);
      await this.runJob(this.queryConfiguration(script, opts, false), { ...opts, sql: script });
      return;
    }
    for (const sql of list) await this.runReplacing(sql, opts);
  }

  /**
   * BigQuery refuses CREATE OR REPLACE TABLE when the partitioning or clustering changes (a table
   * built before fsql partitioned feature tables, or a changed partition_by): like dbt-bigquery,
   * drop the table and create it again.
   */
  private async runReplacing(sql: string, opts: ExecuteOptions): Promise<void> {
    try {
      await this.runQuery(sql, opts);
    } catch (e) {
      const table = /^create or replace table (`[^`]+`)/i.exec(sql)?.[1];
      if (!table || !(e instanceof WarehouseError) || !/different (partitioning|clustering) spec/i.test(e.message)) throw e;
      await this.runQuery(this.dialect.dropTable(table), opts);
      await this.runQuery(sql, opts);
    }
  }

  async query(sql: string, opts: ExecuteOptions = {}): Promise<Row[]> {
    const rows: Row[] = [];
    for await (const page of this.stream(sql, opts)) rows.push(...page);
    return rows;
  }

  /**
   * Page by page: one page in hand and the next one on its way, never the whole result. With
   * `chunkRows`, pages hold at most that many rows; otherwise BigQuery sizes them (up to 10 MB).
   */
  streamColumns(sql: string, opts: ExecuteOptions & { chunkRows?: number } = {}): AsyncIterable<ColumnBatch> {
    return batchesFromRows(this.stream(sql, opts));
  }

  async *stream(sql: string, opts: ExecuteOptions & { chunkRows?: number } = {}): AsyncIterable<Row[]> {
    const job = await this.runQuery(sql, opts);
    const ref = job.jobReference;
    let decode: ((row: WireRow) => Row) | undefined;
    let next = this.page(ref, undefined, opts);
    for (;;) {
      const page = await next;
      const token = page.pageToken;
      if (token) {
        next = this.page(ref, token, opts);
        next.catch(() => undefined); // awaited on the next turn; a consumer that stops early leaves it unobserved
      }
      decode ??= rowDecoder(page.schema?.fields ?? []);
      const rows = (page.rows ?? []).map(decode);
      if (rows.length > 0) yield rows;
      if (!token) return;
    }
  }

  async describe(relation: RelationName): Promise<Column[] | undefined> {
    const project = relation.database ?? this.settings.project;
    const dataset = relation.schema ?? this.settings.dataset;
    let table: TableResource;
    try {
      table = await this.retrying(() =>
        this.request<TableResource>({ uri: `/datasets/${encodeURIComponent(dataset)}/tables/${encodeURIComponent(relation.name)}`, projectId: project }),
      );
    } catch (e) {
      const { last: cause, attempts } = e as RetriesExhausted;
      const info = failureInfo(cause);
      if (info.status === 404 || info.reason === 'notFound') return undefined;
      throw warehouseError(cause, this.errorContext({}, attempts));
    }
    return columnsOf(table.schema?.fields ?? []);
  }

  /**
   * Uploads a local .csv (header row, types detected) or .parquet file with a load job into
   * `relation`, replacing it. Such tables are scratch copies (train's events), so they expire
   * after 24 hours.
   */
  async loadFile(path: string, relation: RelationName, opts: ExecuteOptions = {}): Promise<void> {
    const ext = extname(path).toLowerCase();
    if (ext !== '.csv' && ext !== '.parquet') throw new WarehouseError(`${path}: only .csv and .parquet files can be loaded.`);
    if (!existsSync(path)) throw new WarehouseError(`${path}: no such file.`);
    const csv = ext === '.csv';
    const configuration = {
      load: {
        destinationTable: { projectId: relation.database ?? this.settings.project, datasetId: relation.schema ?? this.settings.dataset, tableId: relation.name },
        sourceFormat: csv ? 'CSV' : 'PARQUET',
        ...(csv ? { autodetect: true, skipLeadingRows: 1, allowQuotedNewlines: true } : {}),
        createDisposition: 'CREATE_IF_NEEDED',
        writeDisposition: 'WRITE_TRUNCATE',
        destinationTableProperties: { expirationTime: new Date(Date.now() + 24 * 3600 * 1000).toISOString() },
      },
      labels: this.labels(opts.label ?? `load ${relation.name}`),
    };
    const label = opts.label ?? path;
    await this.runJob(configuration, { ...opts, label }, (jobId) =>
      this.request<JobResource>({
        method: 'POST',
        uri: `${this.bq.apiEndpoint}/upload/bigquery/v2/projects/${encodeURIComponent(this.settings.executionProject)}/jobs`,
        qs: { uploadType: 'multipart' },
        // multipart/related: the job resource, then the file (https://cloud.google.com/bigquery/docs/reference/api-uploads)
        multipart: [
          { 'Content-Type': 'application/json', body: JSON.stringify({ jobReference: this.jobReference(jobId), configuration }) },
          { 'Content-Type': 'application/octet-stream', body: createReadStream(path) },
        ] as unknown as RequestOptions['multipart'],
      }),
    );
  }

  /** A dry run: BigQuery checks names, types and permissions and says how many bytes the query would scan. */
  async validate(sql: string, opts: ExecuteOptions = {}): Promise<Validation> {
    const job = await this.runJob(this.queryConfiguration(sql, opts, true), { ...opts, sql });
    const bytes = job.statistics?.totalBytesProcessed ?? job.statistics?.query?.totalBytesProcessed;
    return { method: 'BigQuery dry run', bytesProcessed: bytes === undefined ? undefined : BigInt(bytes) };
  }

  async close(): Promise<void> {
    // nothing held open: every call is its own HTTPS request
  }

  // ---- jobs ----------------------------------------------------------------------------------

  /** One statement (a trailing `;` dropped) as one query job. */
  private async runQuery(sql: string, opts: ExecuteOptions): Promise<JobResource> {
    const statement = sql.replace(/;\s*$/, '');
    return this.runJob(this.queryConfiguration(statement, opts, false), { ...opts, sql: statement });
  }

  private queryConfiguration(sql: string, opts: ExecuteOptions, dryRun: boolean): Record<string, unknown> {
    const s = this.settings;
    return {
      query: {
        query: sql,
        useLegacySql: false,
        priority: s.priority,
        ...(s.maximumBytesBilled ? { maximumBytesBilled: s.maximumBytesBilled } : {}),
      },
      labels: this.labels(opts.label),
      ...(s.jobExecutionTimeoutMs && !dryRun ? { jobTimeoutMs: String(s.jobExecutionTimeoutMs) } : {}),
      ...(dryRun ? { dryRun: true } : {}),
    };
  }

  private labels(label: string | undefined): Record<string, string> {
    const view = labelFor(label);
    return {
      fsql_project: labelValue(this.opts.projectName),
      fsql_target: labelValue(this.target.name),
      fsql_invocation: this.invocation,
      ...(view ? { fsql_view: view } : {}),
    };
  }

  private jobReference(jobId: string): JobReference {
    return { projectId: this.settings.executionProject, jobId, ...(this.settings.location ? { location: this.settings.location } : {}) };
  }

  private newJobId(label: string | undefined): string {
    return `fsql_${labelFor(label) ?? 'query'}_${randomUUID().replace(/-/g, '')}`;
  }

  /**
   * Inserts a job and waits for it. On a transient failure it tries again after a backoff: an
   * insert whose answer was lost is sent again under the same job id (a `duplicate` answer then
   * means the first one arrived, and fsql waits for that job); a job that ran and failed is
   * replaced by a new one.
   */
  private async runJob(
    configuration: Record<string, unknown>,
    opts: ExecuteOptions & { sql?: string },
    insert: (jobId: string) => Promise<JobResource> = (jobId) =>
      this.creationDeadline(this.request<JobResource>({ method: 'POST', uri: '/jobs', json: { jobReference: this.jobReference(jobId), configuration } })),
  ): Promise<JobResource> {
    let jobId = this.newJobId(opts.label);
    const attempt = async (n: number) => {
      let job: JobResource;
      try {
        job = await insert(jobId);
      } catch (e) {
        if (n === 0 || failureInfo(e).reason !== 'duplicate') throw e;
        job = await this.getJob({ ...this.jobReference(jobId) });
      }
      return configuration.dryRun ? job : this.waitForJob(job);
    };
    try {
      return await retrying(this.retryPolicy, attempt, (e) => {
        if (e instanceof JobFailed) jobId = this.newJobId(opts.label);
      });
    } catch (e) {
      const { last, attempts } = e as RetriesExhausted;
      throw warehouseError(last, this.errorContext(opts, attempts));
    }
  }

  /**
   * job_creation_timeout_seconds: an insert that takes longer is given up on and, being
   * transient, sent again under the same job id. (The SDK's own `timeout` does not reach its
   * HTTP client, so fsql keeps the time itself.)
   */
  private creationDeadline<T>(insert: Promise<T>): Promise<T> {
    const ms = this.settings.jobCreationTimeoutMs;
    if (!ms) return insert;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error(`jobs.insert took longer than job_creation_timeout_seconds (${ms / 1000} s)`), { code: 'TIMEOUT' })), ms);
    });
    insert.catch(() => undefined); // its late answer, if any, is not waited for
    return Promise.race([insert, late]).finally(() => clearTimeout(timer));
  }

  private async waitForJob(job: JobResource): Promise<JobResource> {
    const ref = job.jobReference;
    const deadline = this.settings.jobExecutionTimeoutMs ? Date.now() + this.settings.jobExecutionTimeoutMs : undefined;
    let delay = this.pollMs;
    while (job.status?.state !== 'DONE') {
      if (deadline !== undefined && Date.now() >= deadline) {
        await this.request({ method: 'POST', uri: `/jobs/${encodeURIComponent(ref.jobId!)}/cancel`, qs: ref.location ? { location: ref.location } : {} }).catch(() => undefined);
        throw new JobTimedOut(ref.jobId!);
      }
      await sleep(deadline === undefined ? delay : Math.max(0, Math.min(delay, deadline - Date.now())));
      delay = Math.min(delay * 1.5, 3000);
      job = await this.getJob(ref);
    }
    const err = job.status.errorResult;
    if (err) throw new JobFailed(ref.jobId ?? '', err.reason, err.message ?? 'the job failed', err.location);
    return job;
  }

  private getJob(ref: JobReference): Promise<JobResource> {
    return this.request<JobResource>({ uri: `/jobs/${encodeURIComponent(ref.jobId!)}`, qs: ref.location ? { location: ref.location } : {} });
  }

  /** One page of a finished query's result (jobs.getQueryResults), retried on transient errors. */
  private page(ref: JobReference, pageToken: string | undefined, opts: ExecuteOptions & { chunkRows?: number }): Promise<QueryResultsPage> {
    const qs: Record<string, string | number | boolean> = { 'formatOptions.useInt64Timestamp': true };
    if (ref.location) qs.location = ref.location;
    if (opts.chunkRows) qs.maxResults = opts.chunkRows;
    if (pageToken) qs.pageToken = pageToken;
    return this.withRetries(opts.label, async () => {
      for (;;) {
        const page = await this.request<QueryResultsPage>({ uri: `/queries/${encodeURIComponent(ref.jobId!)}`, qs });
        if (page.jobComplete !== false) return page;
        await sleep(this.pollMs);
      }
    });
  }

  // ---- datasets, retries, errors -------------------------------------------------------------

  private async checkDataset(): Promise<void> {
    const s = this.settings;
    const ds = await this.withRetries(undefined, () => this.request<DatasetResource>({ uri: `/datasets/${encodeURIComponent(s.dataset)}`, projectId: s.project }));
    if (s.location && ds.location && ds.location.toLowerCase() !== s.location.toLowerCase()) {
      throw new WarehouseError(
        `dataset ${s.project}:${s.dataset} is in location ${ds.location}, but ${this.target.profileFile} sets location: ${s.location} (output '${this.target.name}'). Jobs must run where the data is: set location: ${ds.location}.`,
      );
    }
  }

  /** Runs one idempotent API call, retrying transient failures with backoff; failures become WarehouseErrors. */
  private async withRetries<T>(label: string | undefined, call: () => Promise<T>): Promise<T> {
    try {
      return await this.retrying(call);
    } catch (e) {
      const { last, attempts } = e as RetriesExhausted;
      throw warehouseError(last, this.errorContext({ label }, attempts));
    }
  }

  /** Like withRetries, but the last failure is thrown as it came (in a RetriesExhausted). */
  private retrying<T>(call: () => Promise<T>): Promise<T> {
    return retrying(this.retryPolicy, call);
  }

  /** job_retries retries of transient failures, backoff from retryBaseMs doubling up to 32 s, within job_retry_deadline_seconds. */
  private get retryPolicy(): RetryPolicy {
    const s = this.settings;
    return { retries: s.jobRetries, baseMs: this.retryBaseMs, capMs: 32_000, deadlineMs: s.jobRetryDeadlineMs, retryable: (e) => isTransient(failureInfo(e)) };
  }

  private errorContext(opts: ExecuteOptions & { sql?: string }, attempts: number): ErrorContext {
    return {
      settings: this.settings,
      profileFile: this.target.profileFile,
      principal: this.credentials.principal,
      credentialSource: this.credentials.source,
      label: opts.label,
      sql: opts.sql,
      attempts,
      endpoint: this.bq.apiEndpoint,
    };
  }

  private request<T>(opts: RequestOptions): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.bq.request(opts, (err, body) => (err ? reject(err) : resolve(body as T)));
    });
  }
}
