/** `serve --access-log FILE`: one JSON line per request (method, path, status, duration, bytes), flushed by a clean stop; no header ever. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mini } from './helpers/mini.js';
import { FSQL_BIN, fsql, makeProject } from './helpers/project.js';

test('serve --access-log writes one JSON line per request, without headers, and a bad path is refused', async () => {
  const dir = makeProject(mini());
  const file = join(dir, 'access.jsonl');
  const child = spawn(process.execPath, [FSQL_BIN, 'serve', '--port', '0', '--access-log', file], { cwd: dir });
  let err = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (c) => {
      err += c;
      const m = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(err);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
  const services = await fetch(`${url}/api/v1/feature-services?x=1`, { headers: { authorization: 'Bearer secret-token' } });
  assert.equal(services.status, 200);
  const missing = await fetch(`${url}/nope`);
  assert.equal(missing.status, 404);
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
  const text = readFileSync(file, 'utf8');
  assert.doesNotMatch(text, /secret-token|x=1/);
  const lines = text.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => [l.method, l.path, l.status]), [['GET', '/api/v1/feature-services', 200], ['GET', '/nope', 404]]);
  assert.ok(lines.every((l) => typeof l.duration_ms === 'number' && l.bytes > 0));

  const bad = fsql(['--project-dir', dir, 'serve', '--port', '0', '--access-log', join(dir, 'no', 'such', 'dir', 'a.log')]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--access-log: cannot write .*a\.log/);
});
