/**
 * An open-loop load at a fixed rate, for latency percentiles to the microsecond: requests leave on a
 * schedule (`rate` per second, whatever the answers), over at most `connections` keep-alive
 * connections, from a process of their own. A request's latency runs from its scheduled time to
 * its answer's end, so time it waits for a connection, or for a loader that fell behind, counts
 * (no coordinated omission). autocannon's fixed rate reports whole milliseconds, too coarse for a
 * 2 ms target, and sends each connection's share in bursts.
 *
 *   node dist/bench/fixed-rate.js <url> <path> <rate> <seconds> <connections>   (the body on stdin)
 */
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
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
  /** failed or non-2xx */
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

async function run(url: string, path: string, body: string, rate: number, seconds: number, connections: number): Promise<FixedRateResult> {
  const { hostname, port } = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
  const total = Math.round(rate * seconds);
  const latency = new Float64Array(total);
  let errors = 0;
  let answered = 0;
  const t0 = performance.now();
  const due = (i: number) => t0 + (i * 1000) / rate;
  return new Promise((resolve) => {
    const finish = () => {
      const elapsed = (performance.now() - t0) / 1000;
      const sorted = latency.slice().sort();
      const at = (q: number) => sorted[Math.min(total - 1, Math.floor(q * total))];
      agent.destroy();
      resolve({ rps: total / elapsed, p50: at(0.5), p99: at(0.99), p999: at(0.999), max: sorted[total - 1], errors });
    };
    const fire = (i: number) => {
      const req = request({ host: hostname, port, path, method: 'POST', agent, headers }, (res) => {
        if ((res.statusCode ?? 500) >= 300) errors++;
        res.resume();
        res.on('end', () => {
          latency[i] = performance.now() - due(i);
          if (++answered === total) finish();
        });
      });
      req.on('error', () => {
        errors++;
        latency[i] = performance.now() - due(i);
        if (++answered === total) finish();
      });
      req.end(body);
    };
    let sent = 0;
    const tick = () => {
      const now = performance.now();
      while (sent < total && due(sent) <= now) fire(sent++);
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
