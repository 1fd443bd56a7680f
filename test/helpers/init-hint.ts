/** init's "Next: ..." hint, and running it as a user would. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

/** The command init's "Next: ..." hint tells the user to type. */
export function nextHint(stderr: string): string {
  const hint = /Next: (.*)$/m.exec(stderr)?.[1];
  assert.ok(hint, `no Next: hint in ${stderr}`);
  return hint;
}

/** Runs a hint as the user would, in a shell in the folder init was run from. */
export function runHint(hint: string, cwd: string): { code: number; stderr: string } {
  const r = spawnSync('sh', ['-c', hint], { cwd, encoding: 'utf8' });
  return { code: r.status ?? -1, stderr: r.stderr };
}
