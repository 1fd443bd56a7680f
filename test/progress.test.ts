/**
 * Progress on a TTY (SPEC section 13): a START line per view, N of M, then the summary; nothing of
 * it when the output is not a terminal. The terminal is a real pseudo-terminal (util-linux `script`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { MINI_VIEW, mini } from './helpers/mini.js';
import { FSQL_BIN, fsql, makeProject } from './helpers/project.js';

function onTty(args: string[]): string {
  const command = [process.execPath, FSQL_BIN, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const r = spawnSync('script', ['-qefc', command, '/dev/null'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  return r.stdout;
}

test('run and sync print START lines, N of M, on a terminal only', () => {
  const recent = new Date(Date.now() - 3600_000).toISOString().replace('T', ' ').slice(0, 19);
  const dir = makeProject(mini({ 'data/payments.csv': `user_id,amount,ts\nu1,10,${recent}\n`, 'models/other.sql': MINI_VIEW.replace(/spend_1d/g, 'other_1d') }));
  const run = onTty(['--project-dir', dir, 'run']);
  assert.match(run, /1 of 2 START (other|spend) \(table\)/);
  assert.match(run, /2 of 2 START (other|spend) \(table\)/);
  assert.match(run, /PASS=2 ERROR=0 SKIP=0 TOTAL=2/);
  const sync = onTty(['--project-dir', dir, 'sync']);
  assert.match(sync, /1 of 2 START other/);
  assert.match(sync, /2 of 2 START spend/);

  const piped = fsql(['--project-dir', dir, 'run']);
  assert.equal(piped.code, 0);
  assert.doesNotMatch(piped.stderr, /START/);
  const quiet = onTty(['--project-dir', dir, '--quiet', 'run']);
  assert.doesNotMatch(quiet, /START/);
});
