import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { nextHint, runHint } from './helpers/init-hint.js';
import { fsql } from './helpers/project.js';

test('fsql init creates a project that runs and passes its tests as created, and its hint works as printed', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'fsql-init-')), 'my-features');
  const init = fsql(['init', dir]);
  assert.equal(init.code, 0, init.stderr);
  assert.match(readFileSync(join(dir, 'fsql_project.yml'), 'utf8'), /name: my_features/);
  // fsql is not on the PATH here (tests run the bin by its path): the hint names the bin.
  const hint = nextHint(init.stderr);
  assert.match(hint, /^cd \S+my-features && node \S+\/bin\/fsql\.js run$/);
  const run = runHint(hint, dirname(dir));
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /PASS=3 ERROR=0 SKIP=0 TOTAL=3/);
  const t = fsql(['test'], { cwd: dir });
  assert.equal(t.code, 0, t.stderr);
  const again = fsql(['init', dir]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /folder exists and is not empty/);
});

test('init writes sample data ending the day before --today, the same for the same date', () => {
  const base = mkdtempSync(join(tmpdir(), 'fsql-init-date-'));
  const data = (name: string) => readFileSync(join(base, name, 'data', 'transactions.csv'), 'utf8');
  for (const name of ['a', 'b']) assert.equal(fsql(['init', join(base, name), '--today', '2031-03-01']).code, 0);
  assert.equal(data('a'), data('b'));
  const times = data('a').trim().split('\n').slice(1).map((line) => line.split(',')[4]);
  assert.ok(times[0] >= '2031-01-30', times[0]);
  assert.ok(times[times.length - 1] >= '2031-02-28' && times[times.length - 1] < '2031-03-01', times[times.length - 1]);
  assert.equal(fsql(['init', join(base, 'c'), '--today', '2031-03-02']).code, 0);
  assert.notEqual(data('c').split('\n')[1], data('a').split('\n')[1]);
  assert.match(fsql(['init', join(base, 'd'), '--today', 'yesterday']).stderr, /--today: 'yesterday' is not a date such as 2025-01-31/);
});

test('a new project syncs values right away: its data ends yesterday', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'fsql-init-sync-')), 'fresh');
  assert.equal(fsql(['init', dir]).code, 0);
  assert.equal(fsql(['run'], { cwd: dir }).code, 0);
  const sync = fsql(['sync'], { cwd: dir });
  assert.equal(sync.code, 0, sync.stderr);
  const written = Number(/Done in [\d.]+s: \d+ entities read, (\d+) written/.exec(sync.stderr)?.[1]);
  assert.ok(written > 100, sync.stderr);
});
