/**
 * `serve --access-log`: one JSON line per request, written after the answer (a buffered stream, so
 * the request path only formats a line). Method, path (no query string), status, duration, bytes
 * answered and the client's address; never a header, so no API key reaches it.
 */
import type { Exchange } from './exchange.js';

export function accessLine(ex: Exchange, path: string, status: number, bytes: number, started: bigint): string {
  return `${JSON.stringify({
    ts: new Date().toISOString(),
    method: ex.method,
    path,
    status,
    duration_ms: Number(process.hrtime.bigint() - started) / 1e6,
    bytes,
    remote: ex.remoteAddress,
  })}\n`;
}
