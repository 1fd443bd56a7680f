/**
 * What the benchmarks measure with, one home for all: their command-line numbers, medians, a
 * process's CPU time, a DuckDB connection of the machine's threads, a server's CPU time per
 * request under a load, the fsql binary (run with its shebang's Node flags) timed from spawn to
 * exit (CPU time and peak RSS read from /proc), a started `fsql serve`, a query timed on its own
 * connection, and the rows two parquet files do not share.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import autocannon from 'autocannon';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { FSQL_BIN } from '../test/helpers/project.js';
import { freePort } from '../test/helpers/redis.js';
import { rawRequest } from '../test/helpers/serve.js';

export const THREADS = cpus().length;

/** The Node flags of bin/fsql.js's shebang: the binary runs with them, as users run it. */
export const SHEBANG_FLAGS = readFileSync(FSQL_BIN, 'utf8').split('\n')[0].replace(/^#!.*?\bnode\b/, '').split(/\s+/).filter(Boolean);

/**
 * Node's arguments to run the fsql binary with `args` as users run it, plus `nodeArgs`;
 * FSQL_BENCH_PROFILE=<dir> adds a CPU profile into that folder (as Node arguments: Node refuses
 * --cpu-prof in NODE_OPTIONS).
 */
function fsqlArgv(args: string[], nodeArgs: string[] = []): string[] {
  const dir = process.env.FSQL_BENCH_PROFILE;
  return [...SHEBANG_FLAGS, ...nodeArgs, ...(dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : []), FSQL_BIN, ...args];
}

/** `--name N` from the command line as a number, else `fallback`. */
export function numberFlag(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? Number(process.argv[i + 1]) : fallback;
}

/** The command line's arguments that are neither a `--flag` nor its value. */
export function positionalArgs(): string[] {
  return process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--'));
}

export async function withDuckDb<T>(path: string, fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(path, { threads: String(THREADS) });
  const conn = await instance.connect();
  try {
    await conn.run("set TimeZone = 'UTC'");
    return await fn(conn);
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

export interface ProcessRun {
  seconds: number;
  /** user + system CPU seconds of the whole process */
  cpu: number;
  reported: number;
  peakRssMb: number;
  /** what the process wrote to stderr (its log) */
  output: string;
}

export interface QueryRun {
  seconds: number;
  cpu: number;
}

export const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** A process's user + system CPU clock ticks, from /proc (Linux); undefined where unreadable. */
function cpuTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined; // not Linux, or the process is gone
  }
}

/** User + system CPU seconds of processes so far; 0 for those unreadable. */
export function cpuSeconds(pids: number[]): number {
  return pids.reduce((t, pid) => t + (cpuTicks(pid) ?? 0), 0) / CLOCK_TICKS;
}

/**
 * `load` run for `seconds` after a 1 s warm-up of the same (JIT, connections, Redis), with the CPU
 * time processes `pids` (the server's) spent in it per request answered, in microseconds (0 when
 * none was).
 */
export async function loadWithCpu<T extends { requests: number }>(pids: number[], seconds: number, load: (seconds: number) => T | Promise<T>): Promise<T & { cpuMicros: number }> {
  await load(1);
  const cpu0 = cpuSeconds(pids);
  const r = await load(seconds);
  const cpu = cpuSeconds(pids) - cpu0;
  return { ...r, cpuMicros: r.requests ? (cpu * 1e6) / r.requests : 0 };
}

/** What autocannon measured of `connections` connections POSTing JSON `body` to `url` for `seconds`. */
export async function postLoad(url: string, body: string, connections: number, seconds: number): Promise<{ rps: number; p50: number; p99: number; errors: number; requests: number }> {
  const r = await autocannon({ url, method: 'POST', body, headers: { 'content-type': 'application/json' }, connections, duration: seconds });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx + r.timeouts, requests: r.requests.total };
}

/**
 * Runs the fsql binary: wall time, the time it reports, and, read from /proc while it runs, its
 * peak RSS (VmHWM) and CPU time (utime + stime of all its threads, DuckDB's included).
 * `reportedPattern`: where the output states the time fsql measured for its own work (train's
 * summary by default).
 */
export function runFsql(args: string[], cwd: string, nodeArgs: string[] = [], reportedPattern = / in ([\d.]+)s \(service/): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, fsqlArgv(args, nodeArgs), { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let peakKb = 0;
    let ticks = 0;
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.stdout.resume();
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakKb = Math.max(peakKb, Number(m[1]));
        ticks = Math.max(ticks, cpuTicks(child.pid!) ?? 0);
      } catch {
        // the process has exited
      }
    }, 5);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(poll);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (code !== 0) return reject(new Error(`fsql ${args.join(' ')} exited ${code}: ${stderr}`));
      const reported = Number(reportedPattern.exec(stderr)?.[1] ?? NaN);
      resolve({ seconds, cpu: ticks / CLOCK_TICKS, reported, peakRssMb: peakKb / 1024, output: stderr });
    });
  });
}

/** The middle value (the upper one of an even count); `xs` is left as it is. */
export function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
}

/**
 * `fsql serve` of a project on a free port, once its /health answers; killed by the caller. Run
 * as by fsqlArgv. Fails with the server's stderr if it exits first or does not answer in 20 s.
 */
export async function startServe(dir: string, extra: string[] = []): Promise<{ url: string; server: ChildProcess }> {
  const port = await freePort();
  const server = spawn(process.execPath, fsqlArgv(['--project-dir', dir, 'serve', '--port', String(port), ...extra]), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const collect = (b: Buffer) => (stderr += b.toString());
  server.stderr.on('data', collect);
  let exited: string | undefined;
  server.once('exit', (code, signal) => (exited = `fsql serve exited (${code ?? signal}) before it was ready: ${stderr}`));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; !(await rawRequest(url, 'GET', '/health').then((r) => r.status === 200, () => false)); i++) {
    if (exited) throw new Error(exited);
    if (i > 200) {
      server.kill();
      throw new Error(`fsql serve did not answer /health in 20 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  server.stderr.off('data', collect); // from here on its log flows on, unread
  return { url, server };
}

/** A query's wall time and this process's CPU time while it runs (DuckDB's threads are ours). */
export async function timeQuery(db: string, sql: string): Promise<QueryRun> {
  return withDuckDb(db, async (c) => {
    const t0 = process.hrtime.bigint();
    const cpu0 = process.cpuUsage();
    await c.run(sql);
    const cpu = process.cpuUsage(cpu0);
    return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, cpu: (cpu.user + cpu.system) / 1e6 };
  });
}

export async function differences(a: string, b: string): Promise<{ rows: [number, number]; onlyA: number; onlyB: number }> {
  return withDuckDb(':memory:', async (c) => {
    const n = async (sql: string) => Number((await c.runAndReadAll(sql)).getRows()[0][0]);
    const ra = `read_parquet('${a}')`;
    const rb = `read_parquet('${b}')`;
    return {
      rows: [await n(`select count(*) from ${ra}`), await n(`select count(*) from ${rb}`)],
      onlyA: await n(`select count(*) from (select * from ${ra} except all select * from ${rb})`),
      onlyB: await n(`select count(*) from (select * from ${rb} except all select * from ${ra})`),
    };
  });
}
