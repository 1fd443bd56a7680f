/** `fsql docs serve --port 0` as a child process: its URL once it listens, and a stop that waits for it to exit. */
import { spawn } from 'node:child_process';
import { FSQL_BIN } from './project.js';

export interface DocsServer {
  url: string;
  stop(): Promise<number | null>;
}

export function startDocsServer(dir: string): Promise<DocsServer> {
  const child = spawn(process.execPath, [FSQL_BIN, '--project-dir', dir, 'docs', 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      const m = /on (http:\/\/[^/\s]+)\//.exec(stderr);
      if (m) resolve({ url: m[1], stop: () => (child.kill('SIGTERM'), exited) });
    });
    child.on('exit', (code) => reject(new Error(`fsql docs serve exited (${code}) before listening: ${stderr}`)));
  });
}
