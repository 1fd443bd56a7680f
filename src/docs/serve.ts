/**
 * `fsql docs serve`: target/docs/ over loopback HTTP. Only files inside that folder are served
 * (a path that resolves outside it, or that is not a file, is a 404); GET and HEAD only.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, resolve, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

function sendJson(res: import('node:http').ServerResponse, status: number, error: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error }));
}

/** The file a request path names under `root`, or undefined when there is none (or it is outside). */
export function fileFor(root: string, urlPath: string): string | undefined {
  let path: string;
  try {
    path = decodeURIComponent(urlPath.split('?')[0]);
  } catch {
    return undefined;
  }
  if (path.includes('\0')) return undefined;
  const abs = resolve(root, `.${path.endsWith('/') ? `${path}index.html` : path}`);
  if (abs !== root && !abs.startsWith(root + sep)) return undefined;
  try {
    return statSync(abs).isFile() ? abs : undefined;
  } catch {
    return undefined;
  }
}

export function createDocsServer(dir: string): Server {
  const root = resolve(dir);
  return createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, 'only GET and HEAD');
    const file = fileFor(root, req.url ?? '/');
    if (!file) return sendJson(res, 404, `not found: ${req.url}`);
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).on('error', () => res.destroy()).pipe(res);
  });
}
