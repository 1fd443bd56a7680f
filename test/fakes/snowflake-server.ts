/**
 * A small stand-in for the part of Snowflake's REST service that snowflake-sdk talks to, so tests
 * run the real SDK on loopback. Written from the SDK's requests (lib/services/sf.js,
 * lib/connection/statement.js, result/chunk.js, file_transfer_agent) and Snowflake's JSON result
 * format:
 *
 *   POST /session/v1/login-request?warehouse=&databaseName=&schemaName=&roleName=
 *        body {data: {ACCOUNT_NAME, LOGIN_NAME, PASSWORD | TOKEN [+ PROOF_KEY], AUTHENTICATOR,
 *        SESSION_PARAMETERS}} -> {success, data: {token, masterToken, validityInSeconds, ...}}
 *   POST /queries/v1/query-request?requestId=  body {sqlText}  -> {data: {rowtype, rowset,
 *        total, chunks: [{url, rowCount}], chunkHeaders}} or {success: false, code, message}
 *        or code 333334 + getResultUrl while the query "runs"
 *   GET  <getResultUrl>, GET <chunk url> (rows as JSON arrays joined by commas, gzip, SSE-C header)
 *   POST /session/token-request (renew), POST /session?delete=true, POST /telemetry/send
 *   PUT: the query-request answers command UPLOAD with a LOCAL_FS stage, which the SDK fills by
 *        copying the file (the SDK's own stage type for local tests; no cloud storage here).
 *
 * Tests script answers per SQL (first matching regex wins), read every SQL text sent, and inject
 * failures: HTTP errors, Snowflake error codes, login refusals, an expired session.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash, createPublicKey, createVerify, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

export type FakeType = 'fixed' | 'real' | 'text' | 'boolean' | 'date' | 'time' | 'timestamp_ntz' | 'timestamp_ltz' | 'timestamp_tz' | 'array' | 'variant' | 'object' | 'binary';

export interface FakeColumn {
  name: string;
  type: FakeType;
  scale?: number;
}

/** Rows hold Snowflake's wire values: numbers and timestamps as text (epoch seconds for timestamps). */
export interface FakeResult {
  columns: FakeColumn[];
  rows: (string | null)[][];
}

export interface FakeError {
  code: string;
  message: string;
  sqlState?: string;
}

export type FakeReply =
  | { result: FakeResult; polls?: number }
  | { error: FakeError }
  | { httpStatus: number };

export interface FakeCredentials {
  user: string;
  password?: string;
  /** PEM public key for key-pair (SNOWFLAKE_JWT) logins */
  publicKey?: string;
  /** accepted OAuth access token */
  oauthToken?: string;
  /** the token the identity provider hands the browser for EXTERNALBROWSER logins */
  ssoToken?: string;
  /** roles the user may use (default: any) */
  roles?: string[];
}

export interface FakeCatalog {
  databases?: string[];
  schemas?: string[];
  warehouses?: string[];
}

export interface RecordedLogin {
  query: Record<string, string>;
  data: Record<string, unknown>;
  ok: boolean;
}

interface Rule {
  match: RegExp;
  reply: FakeReply | ((sql: string) => FakeReply);
  times: number;
}

interface Session {
  token: string;
  masterToken: string;
  database: string | null;
  schema: string | null;
  warehouse: string | null;
  role: string;
  params: Record<string, string>;
}

const STATUS_RESULT = (text: string): FakeResult => ({ columns: [{ name: 'status', type: 'text' }], rows: [[text]] });

export class FakeSnowflake {
  /** every SQL text that reached query-request, in order (retries included) */
  readonly queries: string[] = [];
  readonly logins: RecordedLogin[] = [];
  readonly chunkFetches: string[] = [];
  readonly requests: { method: string; path: string }[] = [];
  /** where PUT leaves the files it "uploads" (the SDK copies them here) */
  readonly stageDir = mkdtempSync(join(tmpdir(), 'fake-sf-stage-'));
  /** rows sent inline with a result; the rest go in chunks of this size */
  chunkRows = 100;
  credentials: FakeCredentials = { user: 'fsql', password: 'correct horse' };
  catalog: FakeCatalog = {};
  private rules: Rule[] = [];
  private loginFaults: FakeReply[] = [];
  private loginDelays: number[] = [];
  private sessions = new Map<string, Session>();
  private chunks = new Map<string, { body: Buffer; key: string }>();
  private pending = new Map<string, { reply: FakeReply; polls: number; sql: string }>();
  private expireNext = false;
  private server!: Server;
  port = 0;

  static async start(): Promise<FakeSnowflake> {
    const fake = new FakeSnowflake();
    fake.server = createServer((req, res) => {
      fake.handle(req, res).catch((e) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String((e as Error).stack));
      });
    });
    await new Promise<void>((r) => fake.server.listen(0, '127.0.0.1', r));
    fake.port = (fake.server.address() as { port: number }).port;
    return fake;
  }

  get accessUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Answers SQL matching `match` with `reply` (`times` times, default always). Later rules win over earlier ones. */
  on(match: RegExp, reply: FakeReply | ((sql: string) => FakeReply), times = Infinity): this {
    this.rules.unshift({ match, reply, times });
    return this;
  }

  /** The next login attempts get these answers, in order, before logins are checked normally. */
  failLogins(...replies: FakeReply[]): this {
    this.loginFaults.push(...replies);
    return this;
  }

  /** The next `count` logins are answered only after `ms` (a slow or hanging service). */
  delayLogins(ms: number, count = 1): this {
    this.loginDelays.push(...Array.from({ length: count }, () => ms));
    return this;
  }

  /** The next query-request is refused as if the session token had expired (the SDK renews it). */
  expireSessionOnce(): void {
    this.expireNext = true;
  }

  /** Parameters the sessions have set (alter session set ...), per session. */
  sessionParams(): Record<string, string>[] {
    return [...this.sessions.values()].map((s) => ({ ...s.params }));
  }

  /** Statements sent, without the session bookkeeping fsql does on every connection. */
  statements(): string[] {
    return this.queries.filter((q) => !/^alter session set timezone/i.test(q) && !/^select current_database\(\)/i.test(q));
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => {
      this.server.closeAllConnections();
      this.server.close(() => r());
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.accessUrl);
    const body = await readBody(req);
    this.requests.push({ method: req.method ?? '', path: url.pathname });
    const send = (status: number, obj: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(obj));
    };
    if (url.pathname.startsWith('/chunks/')) return this.serveChunk(url.pathname, req, res);
    if (url.pathname === '/session/v1/login-request') {
      const delay = this.loginDelays.shift();
      const fault = this.loginFaults.shift();
      if (fault && 'httpStatus' in fault) {
        this.logins.push({ query: Object.fromEntries(url.searchParams.entries()), data: {}, ok: false });
        return send(fault.httpStatus, { message: 'Service Unavailable' });
      }
      const answer = this.login(url, body, fault);
      if (delay) await new Promise((r) => setTimeout(r, delay));
      return send(200, answer);
    }
    if (url.pathname === '/telemetry/send') return send(200, { success: true, data: 'Log Received' });
    const session = this.sessionOf(req);
    if (url.pathname === '/session/token-request') return send(200, this.renew(req, body));
    if (!session) return send(200, { success: false, code: '390104', message: 'Invalid session token.', data: null });
    if (url.pathname === '/session' && url.searchParams.get('delete') === 'true') {
      this.sessions.delete(session.token);
      return send(200, { success: true, code: null, message: null, data: null });
    }
    if (url.pathname === '/queries/v1/query-request') {
      const sql = String((body as { sqlText?: string }).sqlText ?? '');
      if (this.expireNext) {
        this.expireNext = false;
        return send(200, { success: false, code: '390112', message: 'Your session has expired. Please login again.', data: null });
      }
      this.queries.push(sql);
      const reply = this.replyFor(sql, session);
      if ('httpStatus' in reply) return send(reply.httpStatus, { message: 'Service Unavailable' });
      if ('result' in reply && reply.polls) {
        const queryId = randomUUID();
        this.pending.set(queryId, { reply, polls: reply.polls, sql });
        return send(200, { success: true, code: '333334', message: 'Asynchronous execution in progress.', data: { queryId, getResultUrl: `/queries/${queryId}/result` } });
      }
      return send(200, this.answer(reply, session, sql));
    }
    const resultPath = /^\/queries\/([^/]+)\/result$/.exec(url.pathname);
    if (resultPath) {
      const p = this.pending.get(resultPath[1]);
      if (!p) return send(200, { success: false, code: '000709', message: `Statement ${resultPath[1]} not found`, data: null });
      if (--p.polls > 0) return send(200, { success: true, code: '333333', message: 'Query execution in progress.', data: { queryId: resultPath[1], getResultUrl: `/queries/${resultPath[1]}/result` } });
      this.pending.delete(resultPath[1]);
      return send(200, this.answer(p.reply, session, p.sql));
    }
    send(404, { success: false, code: '404', message: `no such endpoint ${url.pathname}` });
  }

  private login(url: URL, body: unknown, fault?: FakeReply): unknown {
    const data = ((body as { data?: Record<string, unknown> }).data ?? {}) as Record<string, unknown>;
    const query = Object.fromEntries(url.searchParams.entries());
    const record: RecordedLogin = { query, data, ok: false };
    this.logins.push(record);
    if (fault && 'error' in fault) return fail(fault.error.code, fault.error.message);
    const c = this.credentials;
    const user = String(data.LOGIN_NAME ?? '');
    const auth = String(data.AUTHENTICATOR ?? 'SNOWFLAKE').toUpperCase();
    if (user.toUpperCase() !== c.user.toUpperCase()) return fail('390100', 'Incorrect username or password was specified.');
    if (auth === 'SNOWFLAKE' || auth === 'USERNAME_PASSWORD_MFA') {
      if (!c.password || data.PASSWORD !== c.password) return fail('390100', 'Incorrect username or password was specified.');
    } else if (auth === 'SNOWFLAKE_JWT') {
      if (!c.publicKey || !verifyJwt(String(data.TOKEN ?? ''), c.publicKey, `${String(data.ACCOUNT_NAME).toUpperCase()}.${c.user.toUpperCase()}`)) return fail('390144', 'JWT token is invalid.');
    } else if (auth === 'OAUTH') {
      if (!c.oauthToken || data.TOKEN !== c.oauthToken) return fail('390303', 'Invalid OAuth access token.');
    } else if (auth === 'EXTERNALBROWSER') {
      if (!c.ssoToken || data.TOKEN !== c.ssoToken || !data.PROOF_KEY) return fail('390100', 'Incorrect username or password was specified.');
    } else {
      return fail('390100', `Unsupported authenticator ${auth}`);
    }
    const role = query.roleName ?? 'PUBLIC';
    if (c.roles && !c.roles.includes(role)) return fail('390189', `Role '${role}' specified in the connect string is not granted to this user. Contact your local system administrator, or attempt to login with another role, e.g. PUBLIC.`);
    const known = (list: string[] | undefined, v: string | undefined) => (v === undefined ? null : !list || list.includes(v) ? v : null);
    const database = known(this.catalog.databases, query.databaseName);
    const session: Session = {
      token: `ST-${randomUUID()}`,
      masterToken: `MT-${randomUUID()}`,
      database,
      schema: database ? known(this.catalog.schemas, query.schemaName) : null,
      warehouse: known(this.catalog.warehouses, query.warehouse),
      role,
      params: { ...((data.SESSION_PARAMETERS as Record<string, string> | undefined) ?? {}) },
    };
    this.sessions.set(session.token, session);
    record.ok = true;
    return {
      success: true,
      code: null,
      message: null,
      data: {
        token: session.token,
        masterToken: session.masterToken,
        validityInSeconds: 3600,
        masterValidityInSeconds: 14400,
        sessionId: Math.floor(Math.random() * 1e9),
        displayUserName: c.user.toUpperCase(),
        serverVersion: '9.0.0',
        parameters: [{ name: 'TIMEZONE', value: 'America/Los_Angeles' }, { name: 'CLIENT_PREFETCH_THREADS', value: 4 }],
        sessionInfo: { databaseName: session.database, schemaName: session.schema, warehouseName: session.warehouse, roleName: role },
      },
    };
  }

  private renew(req: IncomingMessage, body: unknown): unknown {
    const auth = String(req.headers.authorization ?? '');
    const old = String((body as { oldSessionToken?: string }).oldSessionToken ?? '');
    const session = this.sessions.get(old);
    if (!session || !auth.includes(session.masterToken)) return fail('390114', 'Authentication token has expired.  The user must authenticate again.');
    this.sessions.delete(old);
    session.token = `ST-${randomUUID()}`;
    this.sessions.set(session.token, session);
    return { success: true, code: null, message: null, data: { sessionToken: session.token, validityInSecondsST: 3600, masterToken: session.masterToken, validityInSecondsMT: 14400 } };
  }

  private sessionOf(req: IncomingMessage): Session | undefined {
    const m = /Snowflake Token="([^"]+)"/.exec(String(req.headers.authorization ?? ''));
    return m ? this.sessions.get(m[1]) : undefined;
  }

  private replyFor(sql: string, session: Session): FakeReply {
    for (const rule of this.rules) {
      if (rule.times <= 0 || !rule.match.test(sql)) continue;
      rule.times--;
      return typeof rule.reply === 'function' ? rule.reply(sql) : rule.reply;
    }
    return this.builtIn(sql, session);
  }

  /** What a real account would say to the statements every fsql session sends. */
  private builtIn(sql: string, session: Session): FakeReply {
    const alter = /^\s*alter session set (\w+)\s*=\s*'([^']*)'/i.exec(sql);
    if (alter) {
      session.params[alter[1].toUpperCase()] = alter[2];
      return { result: STATUS_RESULT('Statement executed successfully.') };
    }
    if (/^\s*select current_database\(\)/i.test(sql)) {
      return {
        result: {
          columns: [
            { name: 'DATABASE', type: 'text' },
            { name: 'SCHEMA', type: 'text' },
            { name: 'WAREHOUSE', type: 'text' },
            { name: 'ROLE', type: 'text' },
          ],
          rows: [[session.database, session.schema, session.warehouse, session.role]],
        },
      };
    }
    const use = /^\s*use schema "([^"]+)"\."([^"]+)"/i.exec(sql);
    if (use) {
      session.schema = use[2];
      return { result: STATUS_RESULT('Statement executed successfully.') };
    }
    if (!session.warehouse && /^\s*(select|insert|delete|merge|create or replace table|copy)\b/i.test(sql) && !/information_schema/i.test(sql)) {
      return { error: { code: '000606', sqlState: '57P03', message: "No active warehouse selected in the current session.  Select an active warehouse with the 'use warehouse' command.\n" } };
    }
    if (/^\s*put\s/i.test(sql)) return { result: { columns: [], rows: [] } };
    // an unscripted query finds nothing (information_schema included: no such table)
    if (/^\s*(select|with)\b/i.test(sql)) return { result: { columns: [{ name: 'NOTHING', type: 'text' }], rows: [] } };
    return { result: STATUS_RESULT('Statement executed successfully.') };
  }

  private answer(reply: FakeReply, session: Session, sql: string): unknown {
    if ('error' in reply) {
      return {
        success: false,
        code: reply.error.code,
        message: reply.error.message,
        headers: null,
        data: { internalError: false, errorCode: reply.error.code, age: 0, sqlState: reply.error.sqlState ?? '42000', queryId: randomUUID(), line: -1, pos: -1, type: 'COMPILATION' },
      };
    }
    if (!('result' in reply)) throw new Error('unreachable');
    const put = /^\s*put\s+'file:\/\/([^']+)'\s+@(\S+)/i.exec(sql);
    if (put) return this.upload(put[1], put[2], /auto_compress\s*=\s*true/i.test(sql));
    const queryId = randomUUID();
    const { columns, rows } = reply.result;
    const inline = rows.slice(0, this.chunkRows);
    const rest = rows.slice(this.chunkRows);
    const key = randomUUID();
    const chunks: { url: string; rowCount: number; uncompressedSize: number; compressedSize: number }[] = [];
    for (let i = 0; i < rest.length; i += this.chunkRows) {
      const part = rest.slice(i, i + this.chunkRows);
      const text = Buffer.from(part.map((r) => JSON.stringify(r)).join(','));
      const body = gzipSync(text);
      const path = `/chunks/${queryId}/${chunks.length}`;
      this.chunks.set(path, { body, key });
      chunks.push({ url: `${this.accessUrl}${path}`, rowCount: part.length, uncompressedSize: text.length, compressedSize: body.length });
    }
    return {
      success: true,
      code: null,
      message: null,
      data: {
        queryId,
        parameters: Object.entries(session.params).map(([name, value]) => ({ name, value })),
        rowtype: columns.map((c) => ({
          name: c.name,
          database: session.database ?? '',
          schema: session.schema ?? '',
          table: '',
          type: c.type,
          scale: c.scale ?? (c.type === 'fixed' ? 0 : c.type.startsWith('timestamp') ? 9 : null),
          precision: c.type === 'fixed' ? 38 : c.type.startsWith('timestamp') ? 0 : null,
          length: c.type === 'text' ? 16777216 : null,
          byteLength: c.type === 'text' ? 16777216 : null,
          nullable: true,
          collation: null,
        })),
        rowset: inline,
        total: rows.length,
        returned: rows.length,
        chunks: chunks.length ? chunks : undefined,
        chunkHeaders: chunks.length ? { 'x-amz-server-side-encryption-customer-algorithm': 'AES256', 'x-amz-server-side-encryption-customer-key': key } : undefined,
        queryResultFormat: 'json',
        databaseProvider: null,
        finalDatabaseName: session.database,
        finalSchemaName: session.schema,
        finalWarehouseName: session.warehouse,
        finalRoleName: session.role,
        numberOfBinds: 0,
        statementTypeId: 4096,
        version: 1,
      },
    };
  }

  /** PUT: Snowflake answers with where to upload; here a LOCAL_FS stage the SDK copies into. */
  private upload(path: string, stage: string, autoCompress: boolean): unknown {
    const location = join(this.stageDir, createHash('sha1').update(stage).digest('hex').slice(0, 12));
    return {
      success: true,
      code: null,
      message: null,
      data: {
        queryId: randomUUID(),
        command: 'UPLOAD',
        src_locations: [path],
        stageInfo: { locationType: 'LOCAL_FS', location, path: '', region: null, storageAccount: null, isClientSideEncrypted: false, creds: {} },
        autoCompress,
        sourceCompression: 'auto_detect',
        parallel: 4,
        overwrite: true,
        encryptionMaterial: null,
        rowtype: [],
        rowset: [],
        parameters: [],
        statementTypeId: 28673,
        version: 1,
      },
    };
  }

  private serveChunk(path: string, req: IncomingMessage, res: ServerResponse): void {
    const chunk = this.chunks.get(path);
    this.chunkFetches.push(path);
    if (!chunk) {
      res.writeHead(404, { 'content-type': 'application/xml' });
      res.end('<Error><Code>NoSuchKey</Code></Error>');
      return;
    }
    // like S3 with SSE-C: without the key from chunkHeaders the object cannot be read
    if (req.headers['x-amz-server-side-encryption-customer-key'] !== chunk.key) {
      res.writeHead(400, { 'content-type': 'application/xml' });
      res.end('<Error><Code>InvalidRequest</Code><Message>missing SSE-C key</Message></Error>');
      return;
    }
    res.writeHead(200, { 'content-type': 'binary/octet-stream', 'content-encoding': 'gzip' });
    res.end(chunk.body);
  }
}

function fail(code: string, message: string): unknown {
  return { success: false, code, message, headers: null, data: { nextAction: 'RETRY_LOGIN', authnMethod: 'USERNAME_PASSWORD', errorCode: code } };
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  for await (const p of req) parts.push(p as Buffer);
  let buf = Buffer.concat(parts);
  if (buf.length === 0) return {};
  // the SDK gzips request bodies, and says so, but not always before the body leaves
  if (buf[0] === 0x1f && buf[1] === 0x8b) buf = gunzipSync(buf);
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch {
    return {};
  }
}

/** RS256 JWT signed with the user's private key, for subject ACCOUNT.USER, not expired. */
function verifyJwt(jwt: string, publicKeyPem: string, subject: string): boolean {
  const [h, p, sig] = jwt.split('.');
  if (!h || !p || !sig) return false;
  const verifier = createVerify('RSA-SHA256');
  verifier.update(`${h}.${p}`);
  if (!verifier.verify(createPublicKey(publicKeyPem), Buffer.from(sig, 'base64url'))) return false;
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as { sub?: string; iss?: string; exp?: number };
  const fingerprint = `SHA256:${createHash('sha256').update(createPublicKey(publicKeyPem).export({ format: 'der', type: 'spki' })).digest('base64')}`;
  return payload.sub === subject && payload.iss === `${subject}.${fingerprint}` && (payload.exp ?? 0) > Date.now();
}
