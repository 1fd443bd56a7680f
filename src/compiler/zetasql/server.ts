/**
 * Finds and runs ZetaSQL's local-service server, the gRPC binary shipped in the devDependency
 * `@fivetrandevelopers/zetasql`. One process per server, on a free loopback port, stopped by stop().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { FsqlError } from '../../errors.js';

/** ZetaSQL could not be used: not installed, no build for this platform, or the server failed. */
export class ZetaSqlError extends FsqlError {}
/** ZetaSQL cannot run here at all: the devDependency is missing, or it has no build for this platform. */
export class ZetaSqlNotInstalled extends ZetaSqlError {}

const PACKAGE = '@fivetrandevelopers/zetasql';

/** The binary's file name inside the package's lib/zetasql/ for this platform, if there is a build. */
export function binaryName(platform: string = process.platform, arch: string = process.arch): string | undefined {
  const builds: Record<string, string> = {
    'linux-x64': 'remote_server.so',
    'linux-arm64': 'remote_server_arm.so',
    'darwin-x64': 'remote_server',
    'darwin-arm64': 'remote_server_arm',
  };
  return builds[`${platform}-${arch}`];
}

/** The package's folder holding the binaries and `protos/`; throws when the package is not installed. */
export function zetaSqlHome(): string {
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve(`${PACKAGE}/package.json`);
  } catch {
    throw new ZetaSqlNotInstalled(`ZetaSQL is not installed: ${PACKAGE} is a devDependency of fsql (production installs leave it out); run \`npm install\` with dev dependencies in the fsql checkout`);
  }
  return join(dirname(pkg), 'lib', 'zetasql');
}

export interface ZetaSqlServer {
  /** `127.0.0.1:PORT` */
  readonly address: string;
  readonly pid: number | undefined;
  /** What the process wrote so far (its last few KiB), for error messages. */
  output(): string;
  /** Resolves with the exit message once the process has ended (crashed or stopped). */
  readonly exited: Promise<string>;
  /** The exit message once the process has ended; undefined while it runs. */
  exitReason(): string | undefined;
  stop(): Promise<void>;
}

/** Starts the server process; the caller waits for it to answer (client.ts connect). */
export async function spawnZetaSql(): Promise<ZetaSqlServer> {
  const name = binaryName();
  if (!name) throw new ZetaSqlNotInstalled(`ZetaSQL has no build for ${process.platform}-${process.arch} (${PACKAGE} ships Linux and macOS, x64 and arm64)`);
  const binary = join(zetaSqlHome(), name);
  const port = await freePort();
  const child = spawn(binary, ['127.0.0.1', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-4096));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<string>((resolve) => {
    child.once('error', (e) => resolve(`could not start ${binary}: ${e.message}`));
    child.once('exit', (code, signal) => resolve(`${binary} exited (${signal ?? `code ${code}`})`));
  });
  let reason: string | undefined;
  void exited.then((why) => (reason = why));
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  return {
    address: `127.0.0.1:${port}`,
    pid: child.pid,
    output: () => out.trim(),
    exited,
    exitReason: () => reason,
    stop: async () => {
      process.off('exit', kill);
      await stopProcess(child, exited);
    },
  };
}

async function stopProcess(child: ChildProcess, exited: Promise<string>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
  await exited;
  clearTimeout(timer);
}

/** A port no one listens on now (the OS picks it; the server binds it a moment later). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
