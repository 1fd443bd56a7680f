/**
 * `fsql sync`, `fsql get` and `fsql freshness` on the SQLite store through the real binary (the
 * shared scenario), and `sync --dry-run` printing each dialect's SQL while connecting to nothing.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fsql } from './helpers/project.js';
import { freePort } from './helpers/redis.js';
import { syncProject, target } from './helpers/sync-project.js';
import { defineSyncScenario } from './helpers/sync-scenario.js';

let downPort: number;

before(async () => {
  downPort = await freePort();
});

defineSyncScenario('sqlite', () => '');

test('--dry-run prints the SQL for the target and connects to nothing', () => {
  const bigquery = `    bq:\n      type: bigquery\n      method: oauth\n      project: acme\n      dataset: features\n      online_store: {type: redis, url: "redis://:pw-dry-run@127.0.0.1:${downPort}"}\n`;
  const dir = syncProject(target('down', `{type: redis, url: "redis://:pw-dry-run@127.0.0.1:${downPort}"}`) + bigquery);
  const r = fsql(['--project-dir', dir, '--target', 'down', 'sync', '--dry-run'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /-- user_stats: latest row per entity/);
  assert.match(r.stdout, /qualify row_number\(\) over \(partition by "user_id" order by "event_ts" desc, "created_ts" desc nulls last, hash\("amount", "n", "flag", "tag", "pair"\) desc\) = 1;/);
  assert.match(r.stdout, /-- audit: skipped \(online: false\)/);
  const bq = fsql(['--project-dir', dir, '--target', 'bq', 'sync', '--dry-run', '--select', 'user_stats'], { cwd: dir });
  assert.equal(bq.code, 0, bq.stderr);
  assert.match(bq.stdout, /from `acme\.features\.user_stats`\nwhere `user_id` is not null/);
  assert.match(bq.stdout, /`event_ts` >= timestamp '[^']+\+00'/);
});

