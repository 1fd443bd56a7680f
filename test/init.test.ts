import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fsql } from './helpers/project.js';

test('fsql init creates a project that runs and passes its tests as created', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'fsql-init-')), 'my-features');
  const init = fsql(['init', dir]);
  assert.equal(init.code, 0, init.stderr);
  assert.match(readFileSync(join(dir, 'fsql_project.yml'), 'utf8'), /name: my_features/);
  const run = fsql(['run'], { cwd: dir });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /PASS=3 ERROR=0 SKIP=0 TOTAL=3/);
  const t = fsql(['test'], { cwd: dir });
  assert.equal(t.code, 0, t.stderr);
  const again = fsql(['init', dir]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /folder exists and is not empty/);
});
