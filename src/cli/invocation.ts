/**
 * How a user runs this fsql from a given folder, for hints such as init's "Next: cd DIR && fsql run":
 * `fsql` when it is on the PATH (a global install), `npx fsql` inside the project that installed it
 * (or inside this repository), else the bin by its full path.
 */
import { existsSync, realpathSync } from 'node:fs';
import { basename, delimiter, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: bin/, dist/, models/ and macros/ are below it. */
export const PACKAGE_ROOT = resolve(fileURLToPath(import.meta.url), '../../../..');
const BIN = join(PACKAGE_ROOT, 'bin', 'fsql.js');

function real(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/** `fsql` on the PATH is this one. Folders npx puts on the PATH for one command (node_modules/.bin) do not count. */
function onPath(env: NodeJS.ProcessEnv): boolean {
  const self = real(BIN);
  return (env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => dir !== '' && !/node_modules[\\/]\.bin$/.test(dir))
    .some((dir) => existsSync(join(dir, 'fsql')) && real(join(dir, 'fsql')) === self);
}

function isInside(dir: string, parent: string): boolean {
  const rel = relative(real(parent) ?? parent, dir);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** The folder whose node_modules holds this package (a local install), if it is one. */
function installingProject(): string | undefined {
  const parent = dirname(PACKAGE_ROOT);
  return basename(parent) === 'node_modules' ? dirname(parent) : undefined;
}

/** The command that runs fsql from `dir` (an existing folder). */
export function fsqlCommand(dir: string, env: NodeJS.ProcessEnv = process.env): string {
  if (onPath(env)) return 'fsql';
  const where = real(dir) ?? resolve(dir);
  if (isInside(where, installingProject() ?? PACKAGE_ROOT)) return 'npx fsql';
  return `node ${/\s/.test(BIN) ? `'${BIN}'` : BIN}`;
}
