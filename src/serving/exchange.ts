/**
 * One request and its answer, whichever path carried it: http1.ts for the common request, node:http
 * (`nodeExchange`) for every other.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RequestError } from '../errors.js';
import { GRPC } from './request.js';

export interface Exchange {
  readonly method: string;
  /** the request target as sent: path and query */
  readonly url: string;
  readonly authorization: string | undefined;
  readonly remoteAddress: string | undefined;
  /** the body; a 413 RequestError past the server's limit */
  body(): Promise<Buffer>;
  /**
   * Writes the answer: `bytes` is the body's UTF-8 length; `headers` are more (allow; connection:
   * close to close the connection after it). Once: later calls, and calls after the client left, do nothing.
   */
  answer(status: number, contentType: string, body: string, bytes: number, headers?: Record<string, string>): void;
}

function tooLarge(limit: number): RequestError {
  return new RequestError(413, GRPC.RESOURCE_EXHAUSTED, `the request body is larger than ${limit} bytes; send fewer entities per request.`);
}

/** A node:http request and response as an exchange, its body read up to `limit` bytes. */
export function nodeExchange(req: IncomingMessage, res: ServerResponse, limit: number): Exchange {
  /** the body was over the limit: the rest is dropped, and the answer closes the connection */
  let drained = false;
  return {
    method: req.method ?? '',
    url: req.url ?? '/',
    authorization: req.headers.authorization,
    get remoteAddress() {
      return req.socket.remoteAddress;
    },
    body: () => readBody(req, res, limit, () => (drained = true)),
    answer(status, contentType, body, bytes, headers) {
      if (res.headersSent || res.destroyed) return;
      res.writeHead(status, { 'content-type': contentType, 'content-length': bytes, ...headers, ...(drained ? { connection: 'close' } : {}) });
      res.end(body);
    },
  };
}

/**
 * Reads the body up to the limit. Past it: a 413, and `drained` is called; the rest of the body is
 * read and dropped (up to 16 times the limit, then the socket is cut) so the client sees the answer
 * instead of a reset.
 */
function readBody(req: IncomingMessage, res: ServerResponse, limit: number, drained: () => void): Promise<Buffer> {
  const drain = () => {
    drained();
    let dropped = 0;
    req.removeAllListeners('data');
    req.on('data', (c: Buffer) => {
      dropped += c.length;
      if (dropped > 16 * limit) req.socket.destroy();
    });
    res.on('finish', () => req.resume());
  };
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    drain();
    return Promise.reject(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > limit) {
        done = true;
        drain();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    });
    req.on('error', (e) => {
      if (done) return;
      done = true;
      reject(new RequestError(400, GRPC.INVALID_ARGUMENT, `the request body could not be read: ${e.message}`));
    });
  });
}
