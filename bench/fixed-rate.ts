/**
 * An open-loop load at a fixed rate, for latency percentiles to the microsecond: requests leave on a
 * schedule (`rate` per second, whatever the answers), over at most `connections` keep-alive
 * connections, from a process of their own. A request's latency runs from the moment the loader
 * takes it up on schedule to its answer's end, so time it waits for a free connection counts (no
 * coordinated omission), but not the lateness of Node's millisecond timers, which is the loader's.
 * autocannon's fixed rate reports whole milliseconds, too coarse for a 2 ms target, and sends each
 * connection's share in bursts. Requests are bytes prepared once and
 * answers are read by their Content-Length on plain sockets: node:http's client cost the machine
 * as much CPU per request as the server measured, and at 5,000 requests/s the two fell behind.
 *
 *   node dist/bench/fixed-rate.js <url> <path> <rate> <seconds> <connections>   (the body on stdin)
 */
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

export interface FixedRateResult {
  /** requests answered per second */
  rps: number;
  /** milliseconds */
  p50: number;
  p99: number;
  p999: number;
  max: number;
  /** non-2xx answers */
  errors: number;
}

const SELF = fileURLToPath(import.meta.url);

/** Runs the load in a child process (a caller warms the server up with a short run first). */
export async function fixedRate(url: string, path: string, body: string, rate: number, seconds: number, connections: number): Promise<FixedRateResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SELF, url, path, String(rate), String(seconds), String(connections)], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c) => (out += String(c)));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as FixedRateResult) : reject(new Error(`the fixed-rate loader exited ${code}: ${out}`))));
    child.stdin.end(body);
  });
}

const HEAD_END = Buffer.from('\r\n\r\n');

/**
 * One keep-alive connection answering one request at a time; `done` gets each answer's status and
 * the request's index. One the server closes while idle (its keep-alive timeout) is opened again.
 */
class Connection {
  private pending: Buffer = Buffer.alloc(0);
  private socket!: Socket;
  /** the index of the request waiting for its answer */
  current?: number;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly done: (status: number, request: number) => void,
  ) {
    this.open();
  }

  private open(): void {
    this.pending = Buffer.alloc(0);
    this.socket = connect({ host: this.host, port: this.port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.read(chunk));
    this.socket.on('error', () => undefined); // 'close' follows
    this.socket.on('close', () => {
      if (this.current === undefined) return this.open();
      // a connection dropped with a request on it leaves it unanswered: the run fails rather than waits
      process.stderr.write(`fixed-rate: a connection closed with request ${this.current} unanswered\n`);
      process.exit(1);
    });
  }

  send(request: Buffer, i: number): void {
    this.current = i;
    this.socket.write(request);
  }

  private read(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const end = this.pending.indexOf(HEAD_END);
    if (end < 0) return;
    const head = this.pending.toString('latin1', 0, end);
    const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
    if (this.pending.length < end + 4 + length) return;
    this.pending = this.pending.subarray(end + 4 + length);
    const i = this.current!;
    this.current = undefined;
    this.done(Number(head.slice(9, 12)), i);
  }

  close(): void {
    this.socket.removeAllListeners('close');
    this.socket.destroy();
  }
}

async function run(url: string, path: string, body: string, rate: number, seconds: number, connections: number): Promise<FixedRateResult> {
  const { hostname, port } = new URL(url);
  const request = Buffer.from(`POST ${path} HTTP/1.1\r\nhost: ${hostname}:${port}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  const total = Math.round(rate * seconds);
  const latency = new Float64Array(total);
  /** when the loader took each request up: sent it, or queued it for a connection */
  const taken = new Float64Array(total);
  const t0 = performance.now();
  const due = (i: number) => t0 + (i * 1000) / rate;
  let errors = 0;
  let answered = 0;
  let sent = 0;
  /** requests due but waiting for a free connection */
  const queue: number[] = [];
  return new Promise((resolve) => {
    const conns: Connection[] = [];
    const finish = () => {
      const elapsed = (performance.now() - t0) / 1000;
      const sorted = latency.slice().sort();
      const at = (q: number) => sorted[Math.min(total - 1, Math.floor(q * total))];
      for (const c of conns) c.close();
      resolve({ rps: total / elapsed, p50: at(0.5), p99: at(0.99), p999: at(0.999), max: sorted[total - 1], errors });
    };
    for (let k = 0; k < connections; k++) {
      const c: Connection = new Connection(hostname, Number(port), (status, i) => {
        latency[i] = performance.now() - taken[i];
        if (status < 200 || status >= 300) errors++;
        if (++answered === total) return finish();
        const next = queue.shift();
        if (next !== undefined) c.send(request, next);
      });
      conns.push(c);
    }
    const tick = () => {
      const now = performance.now();
      while (sent < total && due(sent) <= now) {
        taken[sent] = now;
        const free = conns.find((c) => c.current === undefined);
        if (free) free.send(request, sent);
        else queue.push(sent);
        sent++;
      }
      if (sent < total) setTimeout(tick, Math.max(0, due(sent) - performance.now()));
    };
    tick();
  });
}

if (process.argv[1] === SELF) {
  const [url, path, rate, seconds, connections] = process.argv.slice(2);
  let body = '';
  for await (const c of process.stdin) body += String(c);
  process.stdout.write(JSON.stringify(await run(url, path, body, Number(rate), Number(seconds), Number(connections))));
}
