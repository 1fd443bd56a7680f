/** Builds throwaway projects in temp folders for tests. */
import { mkdtempSync, mkdirSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';

/** The repository root (tests run from dist/test/...). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const FSQL_BIN = join(REPO_ROOT, 'bin', 'fsql.js');

export const DUCKDB_PROFILE = (name: string, extra = '') => `${name}:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: target/dev.duckdb
      schema: main
      threads: 2
${extra}`;

/** Writes `files` (path -> text) into a new temp project folder and returns its path. */
export function makeProject(files: Record<string, string>, name = 'proj'): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'fsql-test-')), name);
  mkdirSync(dir, { recursive: true });
  const all = { 'profiles.yml': DUCKDB_PROFILE(name), ...files };
  for (const [path, text] of Object.entries(all)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

/**
 * A copy of the example project in a temporary folder; with `handWrittenWindows`, its two aggregate
 * views replaced by the SQL window functions they were before (test/fixtures/hand-written-windows).
 */
export function copyExample(opts: { handWrittenWindows?: boolean } = {}): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'fsql-example-')), 'fraud');
  for (const p of ['models', 'macros', 'data', 'profiles.yml', 'fsql_project.yml']) cpSync(join(REPO_ROOT, p), join(dir, p), { recursive: true });
  if (opts.handWrittenWindows) cpSync(join(REPO_ROOT, 'test', 'fixtures', 'hand-written-windows', 'models'), join(dir, 'models'), { recursive: true });
  return dir;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `fsql` binary as a user would. */
export function fsql(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): CliResult {
  const r = spawnSync(process.execPath, [FSQL_BIN, ...args], { cwd: opts.cwd, env: { ...process.env, ...opts.env }, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
