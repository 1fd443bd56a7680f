/**
 * A client of ZetaSQL's local service with BigQuery's language options: analyze statements against
 * a catalog of tables, evaluate queries over small tables. gRPC is loaded on first use (it is a
 * devDependency); every call has a deadline, so a hung server becomes a ZetaSqlError.
 */
import type * as grpc from '@grpc/grpc-js';
import { join } from 'node:path';
import { spawnZetaSql, zetaSqlHome, ZetaSqlError, ZetaSqlNotInstalled, type ZetaSqlServer } from './server.js';
import { typeName, typeProto, type TypeProto } from './types.js';
import { decodeValue, encodeValue, type ValueProto, type ZetaValue } from './values.js';

export interface ZetaColumn {
  name: string;
  /** `INT64`, `FLOAT64`, `STRING`, `BOOL`, `TIMESTAMP`, `DATE`, `BYTES`, `ARRAY<...>` (fsql's and DuckDB's names too) */
  type: string;
}

export interface ZetaTable {
  /** as the SQL names it, with or without the backticks: `project.dataset.table` */
  name: string;
  columns: ZetaColumn[];
  /** for evaluate(): cells in column order, or objects keyed by column name */
  rows?: (ZetaValue[] | Record<string, ZetaValue>)[];
}

export interface QueryResult {
  columns: ZetaColumn[];
  rows: Record<string, ZetaValue>[];
}

/** A statement ZetaSQL rejected; line and column (1-based) when it gave a place. */
export interface SqlProblem {
  message: string;
  line?: number;
  column?: number;
}

export interface AnalyzedStatement {
  /** the resolved statement's kind, e.g. `resolved_query_stmt_node` */
  kind: string;
  /** output columns of a query */
  columns?: ZetaColumn[];
}

export interface Analysis {
  statements: AnalyzedStatement[];
  /** the first problem; statements after it are not analyzed */
  problem?: SqlProblem;
}

export interface CallOptions {
  /** deadline of the call, in milliseconds (default: the client's, 60 s unless set) */
  timeoutMs?: number;
}

export type ClientOptions = CallOptions;

/** What the server takes at most in one request (gRPC's default receive limit, not raised in this build). */
export const REQUEST_LIMIT_BYTES = 4 * 1024 * 1024;
const START_TIMEOUT_MS = 30_000;

type Call = <T>(method: string, request: object, timeoutMs?: number) => Promise<T>;

interface AnalyzerOptions {
  language_options: object;
  default_timezone: string;
  error_message_mode: string;
}

interface EvaluateResponse {
  content?: { table_data?: { row?: { cell?: ValueProto[] }[] } };
  prepared?: { columns?: { name: string; type: TypeProto }[] };
}

export class ZetaSqlClient {
  private constructor(
    readonly server: ZetaSqlServer,
    private readonly grpcClient: grpc.Client,
    private readonly call: Call,
    private readonly options: AnalyzerOptions,
  ) {}

  /** Starts a server and connects to it; close() stops it. */
  static async start(opts: ClientOptions = {}): Promise<ZetaSqlClient> {
    const { grpcLib, service } = await loadService();
    const server = await spawnZetaSql();
    try {
      const client = new service(server.address, grpcLib.credentials.createInsecure(), {
        'grpc.max_send_message_length': REQUEST_LIMIT_BYTES,
        'grpc.max_receive_message_length': -1,
        // the server takes a moment to listen: retry the connection every 50-200 ms, not gRPC's 1 s and more
        'grpc.initial_reconnect_backoff_ms': 50,
        'grpc.max_reconnect_backoff_ms': 200,
      }) as grpc.Client;
      const call = caller(client, server, opts.timeoutMs ?? 60_000);
      await waitUntilUp(client, server);
      const languageOptions = bigQueryLanguageOptions(await call<{ enabled_language_features?: string[] }>('GetLanguageOptions', { maximum_features: true }));
      const options: AnalyzerOptions = { language_options: languageOptions, default_timezone: 'UTC', error_message_mode: 'ERROR_MESSAGE_ONE_LINE' };
      return new ZetaSqlClient(server, client, call, options);
    } catch (e) {
      await server.stop();
      throw e;
    }
  }

  /** Resolves `sql` (one statement or several separated by `;`) against `tables`. */
  async analyze(sql: string, tables: ZetaTable[], opts: CallOptions = {}): Promise<Analysis> {
    const catalog = this.catalog(tables);
    const statements: AnalyzedStatement[] = [];
    const bytes = Buffer.from(sql);
    let position = 0;
    while (!isBlank(bytes.subarray(position).toString())) {
      let response: { resolved_statement?: ResolvedStatement; resume_byte_position?: number };
      try {
        const request = { options: this.options, simple_catalog: catalog, parse_resume_location: { input: sql, byte_position: position, allow_resume: true } };
        response = await this.call<typeof response>('Analyze', request, opts.timeoutMs);
      } catch (e) {
        if (e instanceof SqlRejected) return { statements, problem: e.problem };
        throw e;
      }
      statements.push(describeStatement(response.resolved_statement ?? {}));
      const next = response.resume_byte_position ?? bytes.length;
      if (next <= position) break;
      position = next;
    }
    return { statements };
  }

  /**
   * Checks one statement's syntax with BigQuery's grammar, without a catalog. (The Parse call
   * reports no position, so this analyzes against an empty catalog: syntax errors come first and
   * carry their line and column; a name that does not resolve means the syntax was fine.)
   */
  async parse(sql: string, opts: CallOptions = {}): Promise<SqlProblem | undefined> {
    const { problem } = await this.analyze(sql, [], opts);
    return problem && /^Syntax error/.test(problem.message) ? problem : undefined;
  }

  /** Runs one query over `tables` (their rows included) and returns its rows as plain values; unnamed columns are named as BigQuery does (`f0_`, `f1_`). */
  async evaluate(sql: string, tables: ZetaTable[], opts: CallOptions = {}): Promise<QueryResult> {
    const content = Object.fromEntries(tables.map((t) => [bareName(t.name), { table_data: { row: (t.rows ?? []).map((r) => ({ cell: encodeRow(t, r) })) } }]));
    const request = { sql, options: this.options, simple_catalog: this.catalog(tables), table_content: content };
    const response = await this.call<EvaluateResponse>('EvaluateQuery', request, opts.timeoutMs);
    let anonymous = 0;
    const columns = (response.prepared?.columns ?? []).map((c) => ({ name: c.name || `f${anonymous++}_`, type: c.type }));
    const rows = (response.content?.table_data?.row ?? []).map((r) => Object.fromEntries(columns.map((c, i) => [c.name, decodeValue(r.cell?.[i] ?? {}, c.type)])));
    return { columns: columns.map((c) => ({ name: c.name, type: typeName(c.type) })), rows };
  }

  async close(): Promise<void> {
    this.grpcClient.close();
    await this.server.stop();
  }

  /** A flat catalog: each table under its full dotted name, as BigQuery's backticked path is one name here. */
  private catalog(tables: ZetaTable[]): object {
    return {
      name: '',
      table: tables.map((t) => ({ name: bareName(t.name), column: t.columns.map((c) => ({ name: c.name, type: typeProto(c.type) })) })),
      builtin_function_options: { language_options: this.options.language_options },
    };
  }
}

/**
 * BigQuery as ZetaSQL sees it: external product mode, every released feature but nanosecond
 * timestamps (BigQuery's are microseconds), plus INTERVAL (still "in development" in this build,
 * needed for `ts - INTERVAL 1 DAY`), QUALIFY reserved, every statement kind.
 */
function bigQueryLanguageOptions(max: { enabled_language_features?: string[] }): object {
  const features = (max.enabled_language_features ?? []).filter((f) => f !== 'FEATURE_TIMESTAMP_NANOS');
  return {
    ...max,
    product_mode: 'PRODUCT_EXTERNAL',
    enabled_language_features: [...features, 'FEATURE_INTERVAL_TYPE'],
    reserved_keywords: ['QUALIFY'],
    supported_statement_kinds: [],
  };
}

let loaded: Promise<{ grpcLib: typeof grpc; service: grpc.ServiceClientConstructor }> | undefined;

/** gRPC and the service definition, loaded once per process. */
function loadService() {
  loaded ??= (async () => {
    const protos = join(zetaSqlHome(), 'protos');
    const [grpcLib, loader] = await Promise.all([import('@grpc/grpc-js'), import('@grpc/proto-loader')]).catch((e: Error) => {
      throw new ZetaSqlNotInstalled(`ZetaSQL's gRPC client is not installed (${e.message}); it comes with fsql's dev dependencies: run \`npm install\` with them`);
    });
    const definition = loader.loadSync('local_service.proto', { includeDirs: [protos], keepCase: true, longs: String, enums: String, defaults: false, oneofs: true });
    const root = grpcLib.loadPackageDefinition(definition) as unknown as { zetasql: { local_service: { ZetaSqlLocalService: grpc.ServiceClientConstructor } } };
    return { grpcLib, service: root.zetasql.local_service.ZetaSqlLocalService };
  })();
  loaded.catch(() => (loaded = undefined));
  return loaded;
}

function caller(client: grpc.Client, server: ZetaSqlServer, defaultTimeoutMs: number): Call {
  return <T>(method: string, request: object, timeoutMs = defaultTimeoutMs) =>
    new Promise<T>((resolve, reject) => {
      const fn = (client as unknown as Record<string, (r: object, o: object, cb: (e: grpc.ServiceError | null, r: unknown) => void) => void>)[method].bind(client);
      try {
        fn(request, { deadline: Date.now() + timeoutMs }, (e, r) => (e ? reject(callError(e, method, timeoutMs, server)) : resolve(r as T)));
      } catch (e) {
        reject(new ZetaSqlError(`ZetaSQL ${method}: ${(e as Error).message}`));
      }
    });
}

/** ZetaSQL rejected the SQL (it does not resolve, or failed while evaluating). */
export class SqlRejected extends ZetaSqlError {
  constructor(readonly problem: SqlProblem) {
    super(`ZetaSQL rejects the SQL: ${problem.message}${problem.line ? ` (line ${problem.line}, column ${problem.column})` : ''}`);
  }
}

const DEADLINE_EXCEEDED = 4;
const RESOURCE_EXHAUSTED = 8;
const UNAVAILABLE = 14;
/** codes of answers about the SQL: INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION, OUT_OF_RANGE, UNIMPLEMENTED */
const SQL_CODES = new Set([3, 5, 9, 11, 12]);

/** An answer about the SQL becomes SqlRejected; trouble with the server, a ZetaSqlError saying what. */
function callError(e: grpc.ServiceError, method: string, timeoutMs: number, server: ZetaSqlServer): Error {
  if (SQL_CODES.has(e.code)) return new SqlRejected(problem(e.details));
  if (e.code === DEADLINE_EXCEEDED) return new ZetaSqlError(`ZetaSQL did not answer ${method} within ${timeoutMs / 1000} s (server at ${server.address})`);
  if (e.code === RESOURCE_EXHAUSTED && /larger than/.test(e.details)) {
    return new ZetaSqlError(`the ${method} request is over ZetaSQL's limit of ${REQUEST_LIMIT_BYTES / 1024 / 1024} MiB (SQL and table rows together): use smaller tables`);
  }
  const gone = server.exitReason();
  const output = e.code === UNAVAILABLE && server.output() ? `; server output: ${server.output()}` : '';
  return new ZetaSqlError(`ZetaSQL ${method} failed: ${e.details || e.message}${gone ? ` (the server is gone: ${gone})` : ''}${output}`);
}

/** Waits until the server answers, or fails with why it did not (it exited, or the time ran out). */
async function waitUntilUp(client: grpc.Client, server: ZetaSqlServer): Promise<void> {
  const ready = new Promise<void>((resolve, reject) =>
    client.waitForReady(Date.now() + START_TIMEOUT_MS, (e) => (e ? reject(new ZetaSqlError(`ZetaSQL's server did not come up within ${START_TIMEOUT_MS / 1000} s: ${server.output() || e.message}`)) : resolve())),
  );
  const died = server.exited.then((why) => {
    throw new ZetaSqlError(`ZetaSQL's server stopped while starting: ${why}${server.output() ? `; output: ${server.output()}` : ''}`);
  });
  await Promise.race([ready, died]);
}

function problem(text: string): SqlProblem {
  const at = /\s*\[at (\d+):(\d+)\]$/.exec(text);
  return at ? { message: text.slice(0, at.index), line: Number(at[1]), column: Number(at[2]) } : { message: text };
}

interface ResolvedStatement {
  node?: string;
  resolved_query_stmt_node?: { output_column_list?: { name: string; column: { type: TypeProto } }[] };
}

function describeStatement(resolved: ResolvedStatement): AnalyzedStatement {
  const kind = resolved.node ?? 'unknown';
  const query = resolved.resolved_query_stmt_node;
  return query ? { kind, columns: (query.output_column_list ?? []).map((c) => ({ name: c.name, type: typeName(c.column.type) })) } : { kind };
}

function encodeRow(t: ZetaTable, row: ZetaValue[] | Record<string, ZetaValue>): ValueProto[] {
  const cells = Array.isArray(row) ? row : t.columns.map((c) => row[c.name] ?? null);
  if (cells.length !== t.columns.length) throw new ZetaSqlError(`table ${t.name}: a row has ${cells.length} cells for ${t.columns.length} columns`);
  return t.columns.map((c, i) => encodeValue(cells[i], typeProto(c.type)));
}

export function bareName(name: string): string {
  return name.replace(/^`(.*)`$/, '$1');
}

function isBlank(sql: string): boolean {
  return sql.replace(/--[^\n]*|#[^\n]*|\/\*[\s\S]*?\*\//g, '').replace(/;/g, '').trim() === '';
}
