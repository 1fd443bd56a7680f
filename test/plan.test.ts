/**
 * `fsql plan` (SPEC section 13): the project against the state the last clean run or build
 * applied to the target (`fsql_state` in its warehouse): new, unchanged, changed breaking or not,
 * removed; the services a breaking change reaches; `--select state:modified` builds what changed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MINI_VIEW, mini } from './helpers/mini.js';
import { fsql, makeProject } from './helpers/project.js';

const OTHER = MINI_VIEW.replace(/spend_1d/g, 'other_1d');

test('plan: new, unchanged, an added feature (not breaking), a changed logic or TTL (breaking), removed; state:modified', () => {
  const dir = makeProject(mini({ 'models/other.sql': OTHER }));
  const plan = (...args: string[]) => {
    const r = fsql(['--project-dir', dir, 'plan', ...args]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  assert.match(plan(), /No state applied to target 'dev' yet/);
  assert.match(plan(), /^\+ spend: new$/m);

  assert.equal(fsql(['--project-dir', dir, 'run']).code, 0);
  assert.match(plan(), /^= spend: unchanged$/m);
  assert.match(plan(), /^= other: unchanged$/m);

  // an added feature: the rest of the SELECT parses the same
  writeFileSync(join(dir, 'models', 'spend.sql'), MINI_VIEW.replace('as spend_1d', 'as spend_1d,\n  count(*) over () as n_all'));
  assert.match(plan(), /^~ spend: changed, not breaking \(feature n_all added\)$/m);
  assert.doesNotMatch(plan(), /Services reading a breaking change/);

  // another computation, and another TTL
  writeFileSync(join(dir, 'models', 'spend.sql'), MINI_VIEW.replace('sum(amount)', 'avg(amount)').replace("ttl='2d'", "ttl='3d'"));
  const breaking = plan();
  assert.match(breaking, /^~ spend: changed, breaking: rebuild the offline table and resync \(ttl 172800s -> 259200s; logic changed \(the SELECT computes something else\)\)$/m);
  assert.match(breaking, /^Services reading a breaking change: svc$/m);
  const json = JSON.parse(plan('--output', 'json'));
  assert.deepEqual(json.views.find((v: { view: string }) => v.view === 'spend').breaking, true);

  // state:modified builds the changed view only, then records the new state
  const run = fsql(['--project-dir', dir, 'run', '--select', 'state:modified']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /OK {3}spend/);
  assert.doesNotMatch(run.stderr, /OK {3}other/);
  assert.match(plan(), /^= spend: unchanged$/m);

  rmSync(join(dir, 'models', 'other.sql'));
  assert.match(plan(), /^- other: removed$/m);
  assert.match(fsql(['--project-dir', dir, 'run', '--dry-run', '--select', 'state:modified']).stderr, /needs the state applied to the target/);
});
