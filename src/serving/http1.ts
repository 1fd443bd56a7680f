/**
 * The feature server's common request read and answered without node:http's request and response
 * objects (serving/CONTEXT.md says why and what it measured): GET or POST, HTTP/1.1, a Host, a
 * body of Content-Length bytes within the limit, a keep-alive connection. Anything else (chunked
 * bodies, Expect, Upgrade, Connection: close, HTTP/1.0, other methods, heads that are malformed or
 * larger than node:http takes, bodies over the limit) hands the connection, with the bytes not yet
 * used, to node:http once the answers owed on it are written; node:http serves it from then on.
 */
import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Exchange } from './exchange.js';

/** pipelined requests a connection may have unanswered before it is read no further */
const MAX_IN_FLIGHT = 64;
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
const REQUEST_LINE = /^(GET|POST) (\/[\x21-\x7e]*) HTTP\/1\.1$/;
/** a header line; its value is trimmed after (one quantifier per part: no backtracking over spaces) */
const HEADER = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):([\t\x20-\x7e]*)$/;
const LENGTH = /^\d{1,9}$/;

export interface Http1Options {
  bodyLimit: number;
  /** ms a connection may stay idle between requests (node:http's keepAliveTimeout) */
  keepAliveTimeout: number;
  /** ms a request may take to arrive whole (node:http's requestTimeout), by `now` */
  requestTimeout: number;
  /** the server's clock (injectable, so tests move time instead of waiting), in ms */
  now(): number;
  /** a request: answer it through the exchange */
  handle(exchange: Exchange): void;
  /** node:http's own handler of a new connection */
  fallback(socket: Socket): void;
  /** answers a client that broke the protocol (here: too slow) and closes its socket, as the server's 'clientError' handler */
  refuse(error: { code: string }, socket: Socket): void;
}

interface Head {
  method: 'GET' | 'POST';
  url: string;
  authorization: string | undefined;
  length: number;
}

/** The head's text (up to its blank line) as a request this path serves, else undefined. */
function parseHead(text: string, bodyLimit: number): Head | undefined {
  const lines = text.split('\r\n');
  const line = REQUEST_LINE.exec(lines[0]);
  if (!line) return undefined;
  let length: number | undefined;
  let authorization: string | undefined;
  let host = false;
  for (let i = 1; i < lines.length; i++) {
    const h = HEADER.exec(lines[i]);
    if (!h) return undefined;
    const value = h[2].trim();
    switch (h[1].toLowerCase()) {
      case 'content-length':
        if (length !== undefined || !LENGTH.test(value)) return undefined;
        length = Number(value);
        break;
      case 'authorization':
        if (authorization !== undefined) return undefined;
        authorization = value;
        break;
      case 'host':
        if (host || value === '') return undefined;
        host = true;
        break;
      case 'connection':
        if (value.toLowerCase() !== 'keep-alive') return undefined;
        break;
      case 'transfer-encoding':
      case 'expect':
      case 'upgrade':
        return undefined;
    }
  }
  if (!host || (length ?? 0) > bodyLimit || (line[1] === 'POST' && length === undefined)) return undefined;
  return { method: line[1] as Head['method'], url: line[2], authorization, length: length ?? 0 };
}

let dateSecond = 0;
let dateText = '';

/** The Date header's value, made once per second as node:http does. */
function httpDate(): string {
  const now = Date.now();
  const second = now - (now % 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

/** One request of a connection; its answer is written when every earlier one's has been. */
class Http1Exchange implements Exchange {
  /** the answer's status line and headers, without Connection and the blank line, once answered */
  head: string | undefined;
  answerBody = '';
  /** the answer asked to close the connection */
  closes = false;

  constructor(
    private readonly connection: Http1Connection,
    readonly method: string,
    readonly url: string,
    readonly authorization: string | undefined,
    private readonly bytes: Buffer,
  ) {}

  get remoteAddress(): string | undefined {
    return this.connection.socket.remoteAddress;
  }

  body(): Promise<Buffer> {
    return Promise.resolve(this.bytes);
  }

  answer(status: number, contentType: string, body: string, bytes: number, headers?: Record<string, string>): void {
    if (this.head !== undefined) return;
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: ${contentType}\r\ncontent-length: ${bytes}\r\n`;
    if (headers) for (const name in headers) if (name === 'connection') this.closes = headers[name] === 'close';
    else head += `${name}: ${headers[name]}\r\n`;
    this.head = `${head}Date: ${httpDate()}\r\n`;
    this.answerBody = body;
    this.connection.written();
  }
}

/** A connection served by this path until it hands itself to node:http or closes. */
export class Http1Connection {
  /** answers owed, in request order */
  private readonly owed: Http1Exchange[] = [];
  /** the start of a request whose head has not arrived whole */
  private unread: Buffer | undefined;
  /** a request whose head has arrived, its body filling */
  private filling: { head: Head; body: Buffer; filled: number } | undefined;
  /**
   * When the request still arriving began; undefined between requests. A new connection's first
   * request counts from the connection's start, as node:http times it, so a server stopping waits for it.
   */
  private partialSince: number | undefined;
  /** the bytes to give node:http once the answers owed are written */
  private handingOff: Buffer | undefined;
  /** this path is done with the connection: handed to node:http, or closing after a last answer */
  private done = false;
  /** the server stops or the client sent all it will: the last answer owed closes the connection */
  private closing = false;
  /** the socket's timeout now set */
  private timeout = 0;
  /** the Connection header of an answer that keeps the connection */
  private readonly keepAlive: string;

  constructor(
    readonly socket: Socket,
    private readonly opts: Http1Options,
  ) {
    socket.on('data', this.onData);
    socket.on('timeout', this.onTimeout);
    socket.on('error', this.onError);
    socket.on('end', this.onEnd);
    socket.on('drain', this.onDrain);
    this.keepAlive = `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(opts.keepAliveTimeout / 1000)}\r\n`;
    this.partialSince = opts.now();
    this.setTimeout(opts.requestTimeout);
  }

  /** The socket's timeout: set only when it changes (the socket restarts it on every read and write). */
  private setTimeout(ms: number): void {
    if (ms === this.timeout) return;
    this.timeout = ms;
    this.socket.setTimeout(ms);
  }

  /** The server stops: a connection between requests closes now, a busy one after its answers; node:http closes those it took. */
  close(): void {
    if (this.done) return;
    this.closing = true;
    if (this.owed.length === 0 && this.partialSince === undefined && this.handingOff === undefined) this.socket.destroy();
  }

  private readonly onData = (chunk: Buffer): void => {
    let buf = chunk;
    let at = 0;
    if (this.filling) {
      const f = this.filling;
      at = chunk.copy(f.body, f.filled, 0, Math.min(chunk.length, f.body.length - f.filled));
      f.filled += at;
      if (f.filled === f.body.length) {
        this.filling = undefined;
        this.start(f.head, f.body);
      }
    }
    // a head that is not whole in its second read goes to node:http, whose parser reads it as it
    // comes (joining each read to the ones before would copy a head sent a byte at a time over and over)
    const continued = this.unread !== undefined;
    if (continued) {
      buf = Buffer.concat([this.unread!, chunk]);
      this.unread = undefined;
    }
    while (!this.filling && at < buf.length) {
      const headEnd = buf.indexOf(HEAD_END, at);
      if (headEnd < 0 ? (continued && at === 0) || buf.length - at > maxHeaderSize : headEnd - at > maxHeaderSize) return this.handOff(buf.subarray(at));
      if (headEnd < 0) {
        this.unread = buf.subarray(at);
        break;
      }
      const head = parseHead(buf.toString('latin1', at, headEnd), this.opts.bodyLimit);
      if (!head) return this.handOff(buf.subarray(at));
      const bodyStart = headEnd + 4;
      at = Math.min(bodyStart + head.length, buf.length);
      if (at - bodyStart === head.length) this.start(head, buf.subarray(bodyStart, at));
      else {
        // the body's first bytes: the rest is copied in as it comes, never joined again
        const body = Buffer.allocUnsafe(head.length);
        this.filling = { head, body, filled: buf.copy(body, 0, bodyStart, at) };
      }
    }
    if (this.filling || this.unread) {
      const now = this.opts.now();
      if (this.partialSince === undefined) this.partialSince = now;
      else if (now - this.partialSince > this.opts.requestTimeout) return this.timedOut();
    }
    if (this.owed.length >= MAX_IN_FLIGHT || this.socket.writableNeedDrain) this.socket.pause();
    this.setTimeout(this.partialSince === undefined ? this.opts.keepAliveTimeout : this.opts.requestTimeout);
  };

  /** A request arrived whole: it is owed an answer. */
  private start(head: Head, body: Buffer): void {
    const exchange = new Http1Exchange(this, head.method, head.url, head.authorization, body);
    this.owed.push(exchange);
    this.partialSince = undefined;
    this.opts.handle(exchange);
  }

  /**
   * An exchange was answered: writes every answer now first in line. An answer closes the
   * connection when it asks to, or when it is the last one owed of a connection that is closing.
   */
  written(): void {
    const { owed, socket } = this;
    while (!this.done && owed.length > 0 && owed[0].head !== undefined) {
      const exchange = owed.shift()!;
      if (socket.destroyed) continue;
      const closes = exchange.closes || (this.closing && owed.length === 0 && this.partialSince === undefined && this.handingOff === undefined);
      socket.write(`${exchange.head}${closes ? 'Connection: close\r\n' : this.keepAlive}\r\n${exchange.answerBody}`);
      if (closes) {
        this.done = true;
        socket.end();
      }
    }
    if (!this.done && !socket.destroyed && owed.length === 0 && this.handingOff) this.giveToNode();
    else this.onDrain();
  }

  /** Reads on once the answers owed are few and the socket takes more writes. */
  private readonly onDrain = (): void => {
    if (!this.done && this.socket.isPaused() && !this.handingOff && this.owed.length < MAX_IN_FLIGHT && !this.socket.writableNeedDrain) this.socket.resume();
  };

  /** A request this path does not serve: node:http takes the connection once the answers owed are written. */
  private handOff(rest: Buffer): void {
    this.unread = undefined;
    this.handingOff = rest;
    this.socket.pause();
    if (this.owed.length === 0) this.giveToNode();
  }

  private giveToNode(): void {
    const { socket } = this;
    const rest = this.handingOff!;
    this.handingOff = undefined;
    this.done = true;
    socket.off('data', this.onData);
    socket.off('timeout', this.onTimeout);
    socket.off('error', this.onError);
    socket.off('end', this.onEnd);
    socket.off('drain', this.onDrain);
    socket.setTimeout(0);
    this.opts.fallback(socket);
    if (rest.length > 0) socket.unshift(rest);
    socket.resume();
  }

  /** A request still arriving past the request timeout: the server's refusal, as node:http's own timeout gives it. */
  private timedOut(): void {
    this.done = true;
    if (this.owed.length === 0) this.opts.refuse({ code: 'ERR_HTTP_REQUEST_TIMEOUT' }, this.socket);
    else this.socket.destroy();
  }

  private readonly onTimeout = (): void => {
    if (this.partialSince !== undefined) this.timedOut();
    else if (this.owed.length === 0) this.socket.destroy();
  };

  private readonly onError = (): void => {
    this.socket.destroy();
  };

  /** The client sent all it will: answer what is owed, then close. */
  private readonly onEnd = (): void => {
    this.unread = undefined;
    this.filling = undefined;
    this.partialSince = undefined;
    this.closing = true;
    if (this.owed.length === 0 && !this.handingOff) {
      this.done = true;
      this.socket.end();
    }
  };
}
