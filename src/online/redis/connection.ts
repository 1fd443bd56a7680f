/**
 * The one connection to a Redis server that fsql uses, for bulk writes, serving reads and
 * metadata alike: commands are encoded straight into RESP bytes and written in one go; replies are
 * counted back in order. ioredis builds a Command object and a promise per command and re-encodes
 * every argument, which measured about 3 µs per row of CPU on `fsql sync`; this writes the same
 * batch for about a third of that.
 *
 * It never hangs: opening (TCP, TLS, AUTH, SELECT) is bounded by the connect timeout, and while
 * replies are awaited Redis must send something at least every command timeout, or the connection
 * fails every waiting command and closes (a stopped server, a half-open socket). TCP keepalive
 * finds dead peers on idle connections. Reconnecting (reconnecting.ts) opens a new one on next use.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { AsciiWriter } from '../ascii-writer.js';
import { COLON, CR, DOLLAR, MINUS, PLUS, STAR, writeCommand } from './resp.js';
import type { RedisOptions } from './options.js';

export type Reply = string | number | null | ReplyError | Reply[];

/** An error reply (`-ERR ...`): returned in place, so one failed command does not hide the others. */
export class ReplyError extends Error {}

interface Waiting {
  replies: Reply[];
  count: number;
  resolve: (r: Reply[]) => void;
  reject: (e: Error) => void;
}

/** Payloads up to this size are copied into the turn's write; larger ones (a sync's batches) are written as they are. */
const COPY_LIMIT = 64 * 1024;
/** The turn's buffer to begin with. */
const OUT_BYTES = 16 * 1024;


/** A connection that failed because Redis stopped answering (connect or command timeout). */
export class RedisTimeoutError extends Error {}

/** A connection that was closed (by the server, the network, or close()) with commands waiting or sent after. */
export class ConnectionClosedError extends Error {}

export class RespConnection {
  private buffer: Buffer = Buffer.alloc(0);
  private offset = 0;
  private readonly waiting: Waiting[] = [];
  private failure?: Error;
  /** Date.now() when replies last arrived, or when waiting for them started */
  private progressAt = 0;
  private timer?: NodeJS.Timeout;

  private constructor(
    private readonly socket: Socket,
    private readonly where: string,
    private readonly commandTimeoutMs: number,
  ) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (e: NodeJS.ErrnoException) => this.fail(e.code === 'ECONNRESET' || e.code === 'EPIPE' ? new ConnectionClosedError(e.message) : e));
    socket.on('close', () => this.fail(new ConnectionClosedError('Connection is closed.')));
  }

  static async connect(opts: RedisOptions): Promise<RespConnection> {
    const where = `${opts.host}:${opts.port}`;
    const socket = opts.tls
      ? tlsConnect({ host: opts.host, port: opts.port, servername: opts.host, ca: opts.tls.ca, cert: opts.tls.cert, key: opts.tls.key })
      : tcpConnect(opts.port, opts.host);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, opts.keepAliveMs);
    const timer = setTimeout(() => socket.destroy(new RedisTimeoutError(`connect ETIMEDOUT ${where}: no connection within ${opts.connectTimeoutMs} ms`)), opts.connectTimeoutMs);
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once(opts.tls ? 'secureConnect' : 'connect', resolve);
        socket.once('error', reject);
      });
      const conn = new RespConnection(socket, where, opts.commandTimeoutMs);
      const hello: string[][] = [];
      if (opts.password !== undefined) hello.push(opts.username ? ['AUTH', opts.username, opts.password] : ['AUTH', opts.password]);
      if (opts.db) hello.push(['SELECT', String(opts.db)]);
      if (hello.length > 0) {
        const replies = await conn.sendCommands(hello);
        const err = replies.find((r): r is ReplyError => r instanceof ReplyError);
        if (err) {
          conn.close();
          throw err;
        }
      }
      return conn;
    } catch (e) {
      socket.destroy();
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Writes commands already encoded as RESP bytes (a sync's batches, batch.ts) and resolves with
   * their `count` replies, in order. What is sent in one turn of the event loop (a server's
   * concurrent requests) goes out in one write when the turn ends, not in one system call each;
   * small payloads are copied into one buffer for it, not handed to the socket one by one
   * (CONTEXT.md).
   */
  send(payload: Uint8Array, count: number): Promise<Reply[]> {
    return this.queue(count, () => {
      if (payload.length <= COPY_LIMIT) return this.out.all(payload);
      this.flush();
      this.socket.write(payload);
    });
  }

  /** Commands, written straight into the turn's buffer (a read's MGET: no string or Buffer per command); their replies, in order. */
  sendCommands(commands: readonly (readonly string[])[]): Promise<Reply[]> {
    return this.queue(commands.length, () => {
      for (const args of commands) writeCommand(this.out, args);
    });
  }

  /** Awaits `count` replies to what `write` writes. */
  private queue(count: number, write: () => void): Promise<Reply[]> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      if (this.waiting.length === 0) {
        this.progressAt = Date.now();
        this.timer ??= setTimeout(this.checkProgress, this.commandTimeoutMs);
      }
      this.waiting.push({ replies: [], count, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(this.flush);
      }
      write();
    });
  }

  /** One command; an error reply is thrown. */
  async command(args: readonly string[]): Promise<Reply> {
    const [reply] = await this.sendCommands([args]);
    if (reply instanceof ReplyError) throw reply;
    return reply;
  }

  /** The turn's commands, written when it ends. */
  private out = new AsciiWriter(undefined, OUT_BYTES);
  private flushing = false;

  /**
   * Writes the turn's commands. The socket holds what it is given until sent: a small turn is
   * copied and `out` reused; a large one (a push's scripts) is handed over as it is and `out`
   * starts again at its usual size, so it never keeps a large turn's memory.
   */
  private readonly flush = () => {
    this.flushing = false;
    const { buf, at } = this.out;
    if (at === 0) return;
    let bytes: Buffer;
    if (at <= COPY_LIMIT) {
      bytes = Buffer.allocUnsafe(at);
      buf.copy(bytes, 0, 0, at);
      this.out.at = 0;
    } else {
      bytes = buf.subarray(0, at);
      this.out = new AsciiWriter(undefined, OUT_BYTES);
    }
    if (!this.failure) this.socket.write(bytes);
  };

  /** Fails the connection when replies are awaited and none came for the command timeout. */
  private readonly checkProgress = () => {
    this.timer = undefined;
    if (this.waiting.length === 0 || this.failure) return;
    const idle = Date.now() - this.progressAt;
    if (idle < this.commandTimeoutMs) {
      this.timer = setTimeout(this.checkProgress, this.commandTimeoutMs - idle);
      return;
    }
    this.fail(new RedisTimeoutError(`Redis at ${this.where} did not answer within ${this.commandTimeoutMs} ms (ETIMEDOUT)`));
    this.socket.destroy();
  };

  /** True once the connection failed or was closed: open a new one. */
  get broken(): boolean {
    return this.failure !== undefined;
  }

  close(): void {
    this.failure ??= new ConnectionClosedError('Connection is closed.');
    this.socket.destroy();
    this.fail(this.failure);
  }

  private fail(e: Error): void {
    this.failure ??= e;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.waiting.splice(0)) w.reject(this.failure);
  }

  private receive(chunk: Buffer): void {
    this.progressAt = Date.now();
    this.buffer = this.offset < this.buffer.length ? Buffer.concat([this.buffer.subarray(this.offset), chunk]) : chunk;
    this.offset = 0;
    for (;;) {
      const w = this.waiting[0];
      if (!w) return;
      const reply = this.parse(this.offset);
      if (reply === undefined) return;
      this.offset = this.end;
      w.replies.push(reply);
      if (w.replies.length === w.count) {
        this.waiting.shift();
        w.resolve(w.replies);
      }
    }
  }

  /** Where the reply parse() returned last ends. */
  private end = 0;

  /**
   * The decimal number of a reply's first line from `at` (after the type byte), with `end` set
   * after its CRLF; undefined when the line has not fully arrived.
   */
  private lineNumber(at: number): number | undefined {
    const buf = this.buffer;
    let i = at;
    const negative = buf[i] === MINUS;
    if (negative) i++;
    let n = 0;
    for (; i < buf.length && buf[i] !== CR; i++) n = n * 10 + buf[i] - 48;
    if (i + 1 >= buf.length) return undefined;
    this.end = i + 2;
    return negative ? -n : n;
  }

  /** One reply starting at `at`, with `end` set after it; undefined when it has not fully arrived. */
  private parse(at: number): Reply | undefined {
    const buf = this.buffer;
    // The replies a bulk write gets by the million: +OK, and $-1 (SET NX on a key that exists).
    if (buf[at] === PLUS && buf[at + 1] === 0x4f && buf[at + 2] === 0x4b && buf[at + 3] === CR && at + 4 < buf.length) {
      this.end = at + 5;
      return 'OK';
    }
    switch (buf[at]) {
      case DOLLAR: {
        const len = this.lineNumber(at + 1);
        if (len === undefined) return undefined;
        if (len < 0) return null;
        const start = this.end;
        if (buf.length < start + len + 2) return undefined;
        this.end = start + len + 2;
        return buf.toString('utf8', start, start + len);
      }
      case STAR: {
        const n = this.lineNumber(at + 1);
        if (n === undefined) return undefined;
        if (n < 0) return null;
        const items: Reply[] = new Array(n);
        for (let i = 0; i < n; i++) {
          const item = this.parse(this.end);
          if (item === undefined) return undefined;
          items[i] = item;
        }
        return items;
      }
      case COLON:
        return this.lineNumber(at + 1);
      case PLUS:
      case MINUS: {
        const nl = buf.indexOf('\r\n', at);
        if (nl < 0) return undefined;
        this.end = nl + 2;
        const line = buf.toString('utf8', at + 1, nl);
        return buf[at] === PLUS ? line : new ReplyError(line);
      }
      default:
        if (at >= buf.length) return undefined;
        this.fail(new Error(`unexpected reply from Redis: ${JSON.stringify(buf.toString('utf8', at, Math.min(buf.length, at + 40)))}`));
        return undefined;
    }
  }
}
