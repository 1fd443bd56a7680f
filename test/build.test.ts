/**
 * `fsql build` (SPEC section 13): each view built then tested in DAG order; a view whose tests fail
 * fails, its descendants are skipped, and `--sync` pushes only the views that passed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MINI_VIEW, MINI_YML, mini } from './helpers/mini.js';
import { fsql, makeProject } from './helpers/project.js';

const recent = (hoursAgo: number) => new Date(Date.now() - hoursAgo * 3600_000).toISOString().replace('T', ' ').slice(0, 19);
const CSV = `user_id,amount,ts\nu1,10,${recent(5)}\nu1,20,${recent(4)}\nu2,5,${recent(3)}\n`;
// spend_1d reaches 30 for u1: the test below fails
const TESTED = `${MINI_YML}feature_views:\n  - name: spend\n    columns:\n      - name: spend_1d\n        tests: [{accepted_range: {max: 25}}]\n`;
const CHILD = MINI_VIEW.replace("{{ source('raw', 'payments') }}", "{{ ref('spend') }}").replace('ts as event_ts', 'event_ts').replace("'user_id', 'ts'", "'user_id', 'event_ts'").replace('sum(amount)', 'sum(spend_1d)').replace(/spend_1d\nfrom/, 'child_1d\nfrom');
const OTHER = MINI_VIEW.replace(/spend_1d/g, 'other_1d');

test('build: a view whose tests fail fails and skips its descendants; others build, test and sync', () => {
  const dir = makeProject(mini({ 'data/payments.csv': CSV, 'models/schema.yml': TESTED, 'models/child.sql': CHILD, 'models/other.sql': OTHER }));
  const r = fsql(['--project-dir', dir, 'build', '--sync']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /FAIL spend: tests failed: accepted_range_spend_spend_1d \(1 failing rows\)/);
  assert.match(r.stderr, /SKIP child \(upstream spend failed\)/);
  assert.match(r.stderr, /OK {3}other/);
  assert.match(r.stderr, /PASS=1 ERROR=1 SKIP=1 TOTAL=3 SYNCED=1/);
  assert.match(r.stderr, /other: \d+ entities read/);
  assert.doesNotMatch(r.stderr, /spend: \d+ entities read/);

  // the data test relaxed: everything builds and passes
  writeFileSync(join(dir, 'models', 'schema.yml'), TESTED.replace('max: 25', 'max: 100'));
  const ok = fsql(['--project-dir', dir, 'build']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stderr, /PASS=3 ERROR=0 SKIP=0 TOTAL=3/);
});
