/**
 * Debian's chromium driven by playwright-core. The browser is FSQL_CHROMIUM when set, else
 * `chromium` on the PATH (.ci/run installs it with apt-get when missing).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { REPO_ROOT } from './project.js';

/** Where browser tests keep their screenshots (gitignored). */
export const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');

export function chromiumPath(): string {
  if (process.env.FSQL_CHROMIUM) return process.env.FSQL_CHROMIUM;
  for (const name of ['chromium', 'chromium-browser']) {
    try {
      return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
    } catch {
      // not this name
    }
  }
  throw new Error('chromium not found: install it (apt-get install -y chromium) or set FSQL_CHROMIUM to its path');
}

export async function launchChromium(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}
