/**
 * dbt's everyday helpers: `fsql debug` (project, profile, compile, warehouse, online store: one
 * line each, exit 1 on a failure, within its timeout, no secrets) and `fsql show` (a view's rows
 * previewed with a LIMIT, nothing built).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { freePort } from './helpers/redis.js';
import { copyExample, fsql } from './helpers/project.js';
import { fsqlAsync } from './helpers/serve.js';

const PASSWORD = 'redis-Pw-9f3a77';

/** The example project with its dev output's online store replaced by `onlineStore` (YAML flow map). */
function exampleWithStore(onlineStore: string): string {
  const dir = copyExample();
  const file = join(dir, 'profiles.yml');
  writeFileSync(file, readFileSync(file, 'utf8').replace('online_store: {type: sqlite, path: target/online.sqlite}', `online_store: ${onlineStore}`));
  return dir;
}

test('fsql debug on the example project: every check ok, exit 0', () => {
  const dir = copyExample();
  const r = fsql(['--project-dir', dir, 'debug']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.deepEqual(lines.map((l) => /^(ok|FAILED)\s+([a-z ]+):/.exec(l)?.slice(1, 3).join(' ')), ['ok fsql', 'ok project', 'ok profile', 'ok compile', 'ok warehouse', 'ok online store']);
  assert.match(r.stdout, /profile 'fraud_features', target 'dev' \(duckdb, schema main\)/);
  assert.match(r.stdout, /4 views compiled for 'dev'/);
  const json = fsql(['--project-dir', dir, '--log-format', 'json', 'debug']);
  assert.equal(json.code, 0);
  assert.deepEqual(json.stdout.trim().split('\n').map((l) => JSON.parse(l).status), ['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
});

test('fsql debug: a Redis store nobody listens on fails its line and exits 1, naming what to check, without the password', async () => {
  const port = await freePort();
  const dir = exampleWithStore(`{type: redis, url: "redis://:${PASSWORD}@127.0.0.1:${port}"}`);
  const t0 = Date.now();
  const r = fsql(['--project-dir', dir, 'debug', '--timeout', '2s']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.ok(Date.now() - t0 < 15_000);
  assert.match(r.stdout, /^ok +warehouse:/m);
  assert.match(r.stdout, /^FAILED +online store: .*Check online_store of output 'dev' in profiles\.yml/m);
  assert.match(r.stderr, /1 check\(s\) failed: online store/);
  assert.ok(!(r.stdout + r.stderr).includes(PASSWORD), 'the password was printed');
});

test('fsql debug: a store that accepts connections and never answers fails within --timeout', async () => {
  const sockets: Socket[] = [];
  const silent = createServer((s) => sockets.push(s)); // reads nothing, answers nothing
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const { port } = silent.address() as { port: number };
  try {
    const dir = exampleWithStore(`{type: redis, url: "redis://127.0.0.1:${port}"}`);
    const t0 = Date.now();
    const r = await fsqlAsync(['--project-dir', dir, 'debug', '--timeout', '1s']);
    const elapsed = Date.now() - t0;
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^FAILED +online store: /m);
    assert.ok(elapsed < 12_000, `debug took ${elapsed} ms`);
  } finally {
    for (const s of sockets) s.destroy();
    silent.close();
  }
});

test('fsql debug: a profile or project that does not load fails at once, naming the file', () => {
  const dir = exampleWithStore('{type: redis, url: "http://nope"}');
  const r = fsql(['--project-dir', dir, 'debug']);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^FAILED +profile: profiles\.yml.*redis online_store needs url.*Fix profiles\.yml there/m);
  const noViews = copyExample();
  rmSync(join(noViews, 'models'), { recursive: true });
  const n = fsql(['--project-dir', noViews, 'debug']);
  assert.equal(n.code, 1);
  assert.match(n.stdout, /^FAILED +project: .*no/m);
  assert.match(r.stderr, /the project did not load/);
});

test('fsql show previews a view without building it: a table, or JSON lines; one view only', () => {
  const dir = copyExample();
  const r = fsql(['--project-dir', dir, 'show', '--select', 'merchant_risk', '--limit', '3']);
  assert.equal(r.code, 0, r.stderr);
  const [head, ...rows] = r.stdout.trim().split('\n');
  assert.match(head, /^merchant_id\s+feature_ts\s+txn_count_30d\s+volume_30d/);
  assert.equal(rows.length, 3);
  assert.match(r.stderr, /3 row\(s\) of merchant_risk .* limit 3; nothing was built/);
  assert.ok(!existsSync(join(dir, 'target', 'run_results.json')));

  const json = fsql(['--project-dir', dir, 'show', '--select', 'merchant_risk', '--limit', '2', '--output', 'json']);
  assert.equal(json.code, 0, json.stderr);
  const objs = json.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(objs.length, 2);
  assert.equal(typeof objs[0].txn_count_30d, 'string'); // int64 as a JSON string, as the HTTP API writes it
  assert.match(objs[0].feature_ts, /^\d{4}-\d\d-\d\dT/);

  // an aggregate view's rows are its input events (its windows exist only at a moment of use)
  const agg = fsql(['--project-dir', dir, 'show', '--select', 'user_transaction_stats', '--limit', '2']);
  assert.equal(agg.code, 0, agg.stderr);
  assert.match(agg.stdout.split('\n')[0], /^user_id\s+ts\s+amount\s+is_large/);

  const two = fsql(['--project-dir', dir, 'show', '--select', 'user_transaction_stats merchant_risk']);
  assert.equal(two.code, 1);
  assert.match(two.stderr, /selects 2 views .*fsql show previews one/);
  const od = fsql(['--project-dir', dir, 'show', '--select', 'txn_vs_history']);
  assert.equal(od.code, 1);
  assert.match(od.stderr, /on-demand view/);
  const limit = fsql(['--project-dir', dir, 'show', '--select', 'merchant_risk', '--limit', '-1']);
  assert.equal(limit.code, 1);
  assert.match(limit.stderr, /--limit/);
});
