/**
 * The server's own HTTP/1.1 path (serving/http1.ts) on raw sockets: pipelined requests answered in
 * order, a request arriving a byte at a time, and every request it does not serve (chunked, Expect,
 * Connection: close, HTTP/1.0, no Host, oversized heads and bodies, other methods) handed to
 * node:http, with earlier answers still owed on the connection, and answered as node:http answers
 * it. A request still arriving past the request timeout (by the injected clock) gets a 408.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { loadProject } from '../src/project/load.js';
import type { OnlineStore } from '../src/online/store.js';
import { Timestamp } from '../src/values.js';
import { copyExample } from './helpers/project.js';
import { EXAMPLE_LAYOUTS, startServer, type TestServer } from './helpers/serve.js';
import { freshStore } from './helpers/stores.js';

const GET = '/api/v1/feature-service/get-features';
const BODY = JSON.stringify({ params: { feature_service_name: 'fraud_detection', join_key_map: { user_id: 'u_1001', merchant_id: 'm_7' } } });
// the store expires rows by the wall clock as it writes them: rows an hour older than now
const START = Date.now();

let srv: TestServer;
let store: OnlineStore;
let now = START;
let port: number;

before(async () => {
  const project = loadProject({ projectDir: copyExample({ handWrittenWindows: true }) });
  store = await freshStore('sqlite');
  for (const l of EXAMPLE_LAYOUTS) await store.putLayout(l);
  const ts = Timestamp.fromMillis(START - 3600_000);
  await store.write(EXAMPLE_LAYOUTS[0], [{ key: ['u_1001'], ts, values: { txn_count_7d: 5n, spend_7d: 10.5 } }]);
  await store.write(EXAMPLE_LAYOUTS[1], [{ key: ['m_7'], ts, values: { risk_score: 1, chargeback_rate: 0.1 } }]);
  srv = await startServer(project, store, { clock: () => Timestamp.fromMillis(now) });
  port = Number(new URL(srv.url).port);
});

after(async () => {
  await srv.close();
  await store.close();
});

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Reads HTTP answers off a socket: `until(answers)` says when to stop; also stops when the server closes. */
function answers(socket: Socket, until: (a: Answer[]) => boolean): Promise<{ answers: Answer[]; closed: boolean }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const got: Answer[] = [];
    const parse = () => {
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const [line, ...lines] = buf.toString('latin1', 0, end).split('\r\n');
        const headers: Record<string, string> = {};
        for (const l of lines) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
        const length = Number(headers['content-length'] ?? 0);
        if (buf.length < end + 4 + length) return;
        got.push({ status: Number(line.split(' ')[1]), headers, body: buf.toString('utf8', end + 4, end + 4 + length) });
        buf = buf.subarray(end + 4 + length);
      }
    };
    const done = (closed: boolean) => {
      socket.removeAllListeners('data');
      resolve({ answers: got, closed });
    };
    socket.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      parse();
      if (until(got)) done(false);
    });
    socket.once('close', () => done(true));
    socket.once('error', reject);
  });
}

function open(to = port): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(to, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

const post = (body: string, extra = '') => `POST ${GET} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
const chunked = (body: string) => `POST ${GET} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n`;
/** spend_7d and txn_count_7d of an answer (features in name order) */
const userFeatures = (body: string) => {
  const f = JSON.parse(body).result.features;
  return [f[9], f[12]];
};
const health = 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n';

async function send(text: string | string[], count: number): Promise<{ answers: Answer[]; closed: boolean }> {
  const socket = await open();
  const read = answers(socket, (a) => a.length >= count);
  for (const part of Array.isArray(text) ? text : [text]) {
    socket.write(part);
    await new Promise((r) => setImmediate(r));
  }
  const result = await read;
  socket.destroy();
  return result;
}

test('pipelined requests are answered in order on one keep-alive connection', { timeout: 20_000 }, async () => {
  const other = BODY.replace('u_1001', 'u_nobody');
  const { answers: a, closed } = await send(post(BODY) + health + post(other), 3);
  assert.equal(closed, false);
  assert.deepEqual(a.map((x) => x.status), [200, 200, 200]);
  assert.deepEqual(userFeatures(a[0].body), [10.5, '5']);
  assert.equal(JSON.parse(a[1].body).status, 'ok');
  assert.deepEqual(userFeatures(a[2].body), [null, null]);
  for (const x of a) {
    assert.equal(x.headers.connection, 'keep-alive');
    assert.equal(x.headers['keep-alive'], 'timeout=65');
    assert.equal(x.headers['content-type'], 'application/json');
    assert.ok(!Number.isNaN(Date.parse(x.headers.date)), x.headers.date);
  }
});

test('a hundred pipelined requests in one write, more than are read ahead at once, are all answered in order', { timeout: 20_000 }, async () => {
  const { answers: a } = await send(health.repeat(99) + post(BODY), 100);
  assert.equal(a.length, 100);
  assert.ok(a.slice(0, 99).every((x) => JSON.parse(x.body).status === 'ok'));
  assert.deepEqual(userFeatures(a[99].body), [10.5, '5']);
});

test('a large body arriving in small writes is answered', { timeout: 20_000 }, async () => {
  const entities = Array.from({ length: 900 }, (_, i) => ({ join_key_map: { user_id: i === 899 ? 'u_1001' : `u_${i}`, merchant_id: 'm_7' } }));
  const body = JSON.stringify({ params: { feature_service_name: 'fraud_detection', request_data: entities } });
  const text = post(body).replace(GET, `${GET}-batch`);
  assert.ok(text.length > 50_000, String(text.length));
  const parts = Array.from({ length: Math.ceil(text.length / 1000) }, (_, i) => text.slice(i * 1000, i * 1000 + 1000));
  const { answers: a } = await send(parts, 1);
  assert.equal(a[0].status, 200, a[0].body);
  const result = JSON.parse(a[0].body).result;
  assert.equal(result.length, 900);
  assert.deepEqual([result[899].features[9], result[899].features[12]], [10.5, '5']);
});

test('pipelined requests and then the client\'s end: every answer, then the connection closes', { timeout: 20_000 }, async () => {
  const socket = await open();
  const read = answers(socket, () => false);
  socket.end(post(BODY) + health + post(BODY));
  const { answers: a, closed } = await read;
  assert.deepEqual([a.map((x) => x.status), closed], [[200, 200, 200], true]);
});

test('a request arriving a byte at a time is answered (node:http takes a head that is not whole in two reads)', { timeout: 20_000 }, async () => {
  const text = post(BODY);
  const { answers: a } = await send([...text], 1);
  assert.equal(a[0].status, 200);
  assert.deepEqual(userFeatures(a[0].body), [10.5, '5']);
});

test('requests this path does not serve go to node:http, after the answers owed, and are answered as node:http answers them', { timeout: 20_000 }, async () => {
  // the same request by both paths: the same answer
  const [fast, node] = [(await send(post(BODY), 1)).answers[0], (await send(chunked(BODY), 1)).answers[0]];
  assert.equal(fast.status, 200);
  assert.deepEqual([node.status, node.body, node.headers['content-type'], node.headers['content-length']], [fast.status, fast.body, fast.headers['content-type'], fast.headers['content-length']]);
  // a chunked request between two others: three answers in order, the last one by node:http too
  const mixed = await send(post(BODY) + chunked(BODY.replace('u_1001', 'u_nobody')) + health, 3);
  assert.deepEqual(mixed.answers.map((x) => x.status), [200, 200, 200]);
  assert.deepEqual(userFeatures(mixed.answers[1].body), [null, null]);
  assert.equal(JSON.parse(mixed.answers[2].body).status, 'ok');
  // Expect: 100-continue
  const expect = await send(post(BODY, 'Expect: 100-continue\r\n'), 2);
  assert.deepEqual(expect.answers.map((x) => x.status), [100, 200]);
  // Connection: close, and HTTP/1.0: answered, then closed
  for (const text of [post(BODY, 'Connection: close\r\n'), post(BODY).replace('HTTP/1.1', 'HTTP/1.0')]) {
    const r = await send(text, 2);
    assert.equal(r.answers[0].status, 200, text);
    assert.equal(r.closed, true, text);
  }
  // other methods: the route's 405 with its Allow header
  const put = await send(`PUT ${GET} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}`, 1);
  assert.deepEqual([put.answers[0].status, put.answers[0].headers.allow, JSON.parse(put.answers[0].body).code], [405, 'POST', 12]);
});

test('no Host, an oversized head or body, a malformed head: the refusals node:http and the server give', { timeout: 20_000 }, async () => {
  const noHost = await send(`POST ${GET} HTTP/1.1\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY}`, 1);
  assert.equal(noHost.answers[0].status, 400);
  const bigHead = await send(`POST ${GET} HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(17_000)}\r\nContent-Length: 2\r\n\r\n{}`, 1);
  assert.equal(bigHead.answers[0].status, 431);
  // spaces before a byte no header may hold: refused at once (a backtracking header pattern took minutes)
  const spaces = await send(`POST ${GET} HTTP/1.1\r\nHost: x\r\nX:${' '.repeat(16_000)}\x01\r\nContent-Length: 2\r\n\r\n{}`, 1);
  assert.equal(spaces.answers[0].status, 400);
  const bigBody = await send(post('x'.repeat(1024 * 1024 + 1)), 1);
  assert.deepEqual([bigBody.answers[0].status, JSON.parse(bigBody.answers[0].body).code, bigBody.answers[0].headers.connection], [413, 8, 'close']);
  const malformed = await send(`POST ${GET} HTTP/1.1\r\nHost: x\r\nBad Header\r\nContent-Length: 2\r\n\r\n{}`, 1);
  assert.equal(malformed.answers[0].status, 400);
  const twoLengths = await send(post(BODY, `Content-Length: ${BODY.length}\r\n`), 1);
  assert.equal(twoLengths.answers[0].status, 400);
  // the server still answers
  assert.equal((await send(post(BODY), 1)).answers[0].status, 200);
});

test('a request still arriving past the request timeout, by the server\'s clock, is answered 408 and closed', { timeout: 20_000 }, async () => {
  const socket = await open();
  const read = answers(socket, (a) => a.length >= 1);
  const text = post(BODY);
  // the head whole (a head spanning reads goes to node:http), the body in pieces
  const body = text.indexOf('\r\n\r\n') + 4;
  socket.write(text.slice(0, body + 10));
  await new Promise((r) => setImmediate(r));
  socket.write(text.slice(body + 10, body + 20));
  await new Promise((r) => setImmediate(r));
  now += 31_000;
  let r;
  try {
    socket.write(text.slice(body + 20, body + 30));
    r = await read;
  } finally {
    now = START;
  }
  assert.equal(r.answers[0]?.status, 408);
  assert.equal(r.closed || (await new Promise((res) => socket.once('close', () => res(true)))), true);
});

test('a stopping server closes connections between requests at once and answers requests still arriving, on either path, then closes', { timeout: 20_000 }, async () => {
  const project = loadProject({ projectDir: copyExample({ handWrittenWindows: true }) });
  const own = await startServer(project, store, { clock: () => Timestamp.fromMillis(now) });
  const connectTo = () => open(Number(new URL(own.url).port));
  // between requests: one answered request, then nothing
  const idle = await connectTo();
  const idleAnswered = answers(idle, (a) => a.length >= 1);
  idle.write(health);
  assert.equal((await idleAnswered).answers[0].status, 200);
  const idleClosed = new Promise((r) => idle.once('close', r));
  // a request on this path, its body half sent; a chunked one (node:http's), its last chunk not sent
  const fast = await connectTo();
  const fastRead = answers(fast, (a) => a.length >= 2);
  const text = post(BODY);
  fast.write(text.slice(0, text.length - 10));
  const slow = await connectTo();
  const slowRead = answers(slow, (a) => a.length >= 2);
  const chunks = chunked(BODY);
  slow.write(chunks.slice(0, chunks.length - 5));
  const closed = own.close();
  await idleClosed;
  fast.write(text.slice(text.length - 10));
  slow.write(chunks.slice(chunks.length - 5));
  const [f, c] = [await fastRead, await slowRead];
  assert.deepEqual([f.answers.length, f.answers[0].status, f.answers[0].headers.connection, f.closed], [1, 200, 'close', true]);
  assert.deepEqual(userFeatures(f.answers[0].body), [10.5, '5']);
  assert.deepEqual([c.answers.length, c.answers[0].status, c.answers[0].headers.connection, c.closed], [1, 200, 'close', true]);
  await closed;
});
