/**
 * `serve --access-log`: one JSON line per request, written after the answer (a buffered stream, so
 * the request path only formats a line). Method, path (no query string), status, duration, bytes
 * answered and the client's address; never a header, so no API key reaches it.
 */
import type { IncomingMessage } from 'node:http';

export function accessLine(req: IncomingMessage, path: string, status: number, bytes: number, started: bigint): string {
  return `${JSON.stringify({
    ts: new Date().toISOString(),
    method: req.method,
    path,
    status,
    duration_ms: Number(process.hrtime.bigint() - started) / 1e6,
    bytes,
    remote: req.socket.remoteAddress,
  })}\n`;
}
