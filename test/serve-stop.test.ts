/**
 * SIGTERM to the `fsql serve` process (as systemd or a container runtime sends it) stops it
 * cleanly: it stops accepting, answers the request in flight, closes idle keep-alive connections,
 * writes its last log line and exits 0. A second signal stops it at once.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { FSQL_BIN, makeProject } from './helpers/project.js';
import { mini } from './helpers/mini.js';

interface Served {
  child: ChildProcessWithoutNullStreams;
  port: number;
  stderr: () => string;
  /** resolves when stderr has a line matching `re` */
  logged: (re: RegExp) => Promise<void>;
  exited: Promise<number | null>;
}

const children: ChildProcessWithoutNullStreams[] = [];
after(() => children.forEach((c) => c.kill('SIGKILL')));

async function serve(): Promise<Served> {
  const dir = makeProject(mini());
  const child = spawn(process.execPath, [FSQL_BIN, 'serve', '--port', '0'], { cwd: dir });
  children.push(child);
  let err = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  child.stderr.on('data', (c) => {
    err += c;
    for (const w of waiters.filter((x) => x.re.test(err))) w.resolve();
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const logged = (re: RegExp) => new Promise<void>((resolve, reject) => {
    if (re.test(err)) return resolve();
    waiters.push({ re, resolve });
    exited.then((code) => reject(new Error(`fsql serve exited (${code}) before logging ${re}:\n${err}`)));
  });
  await logged(/on http:\/\/127\.0\.0\.1:\d+/);
  const port = Number(/on http:\/\/127\.0\.0\.1:(\d+)/.exec(err)![1]);
  return { child, port, stderr: () => err, logged, exited };
}

/** Sends a request's headers and the first part of its body; the rest is sent by the returned function. */
function partialRequest(port: number, body: string): Promise<{ finish: () => Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1', () => {
      socket.write(`POST /api/v1/feature-service/get-features HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 10)}`);
      let reply = '';
      socket.on('data', (c) => (reply += c));
      const done = new Promise<string>((r) => socket.once('close', () => r(reply)));
      resolve({
        finish: () => {
          socket.end(body.slice(10));
          return done;
        },
      });
    });
    socket.once('error', reject);
  });
}

test('SIGTERM: the request in flight is answered, idle connections close, the last log line is written, exit 0', { timeout: 30_000 }, async () => {
  const s = await serve();
  // An idle keep-alive connection, which alone would keep a plain server.close() waiting 65 s.
  const agent = new Agent({ keepAlive: true });
  const { status, socket } = await new Promise<{ status: number; socket: Socket }>((resolve, reject) => {
    request({ port: s.port, host: '127.0.0.1', path: '/health', agent }, (res) => {
      const socket = res.socket;
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, socket }));
    }).on('error', reject).end();
  });
  assert.ok(status === 200 || status === 503, String(status));
  const idleClosed = new Promise<void>((resolve) => socket.once('close', () => resolve()));

  const inFlight = await partialRequest(s.port, JSON.stringify({ params: { feature_service_name: 'svc', join_key_map: { user_id: 'u1' } } }));
  s.child.kill('SIGTERM');
  await s.logged(/stopping on SIGTERM/);
  await idleClosed;
  const reply = await inFlight.finish();
  assert.match(reply, /^HTTP\/1\.1 \d{3} /, 'the request in flight gets its answer');
  assert.match(reply, /\r\n\r\n\{.*\}$/s, 'a whole JSON body');
  assert.equal(await s.exited, 0, s.stderr());
  assert.match(s.stderr(), /stopping on SIGTERM[^\n]*\n(.*\n)*stopped\n$/);
  agent.destroy();
});

test('a second SIGTERM stops at once, even with a request still open', { timeout: 30_000 }, async () => {
  const s = await serve();
  await partialRequest(s.port, JSON.stringify({ params: { feature_service_name: 'svc', join_key_map: { user_id: 'u1' } } }));
  s.child.kill('SIGTERM');
  await s.logged(/stopping on SIGTERM/);
  s.child.kill('SIGTERM');
  assert.equal(await s.exited, 1);
  assert.match(s.stderr(), /second SIGTERM: stopping now without waiting for requests in flight\n$/);
});
