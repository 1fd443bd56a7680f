/**
 * dbt-style freshness (SPEC section 11): `freshness:` on a source (its timestamp or
 * loaded_at_field) and on a view (its newest row offline; its sync watermark online), warn and
 * error thresholds at an injected clock; and the command's exit codes (a warning stays 0).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkFreshness } from '../src/offline/freshness.js';
import { openOnlineStore } from '../src/online/open.js';
import { loadProject } from '../src/project/load.js';
import { Timestamp } from '../src/values.js';
import { openWarehouse } from '../src/warehouse/index.js';
import { MINI_CSV, MINI_VIEW, MINI_YML, mini } from './helpers/mini.js';
import { fsql, makeProject } from './helpers/project.js';

const NEWEST = Timestamp.parse('2024-01-03T00:00:00Z')!; // the newest row of MINI_CSV
const SOURCE_FRESHNESS = MINI_YML.replace('        timestamp: ts\n', '        timestamp: ts\n        freshness: {warn_after: 1h, error_after: 1d}\n');
const OFFLINE_VIEW = MINI_VIEW.replace("ttl='2d')", "ttl='2d', online=false, freshness={'warn_after': '2h', 'error_after': '3d'})");

async function levels(dir: string, now: Timestamp): Promise<Record<string, string>> {
  const project = loadProject({ projectDir: dir });
  const wh = await openWarehouse(project);
  const store = await openOnlineStore(project);
  try {
    const r = await checkFreshness(project, wh, store, { now });
    return Object.fromEntries([...r.sources.map((s) => [`source ${s.source}`, s.level]), ...r.views.map((v) => [v.view, v.level])]);
  } finally {
    await store.close();
    await wh.close();
  }
}

test('warn and error thresholds on a source and on a view, measured at an injected clock', async () => {
  const dir = makeProject(mini({ 'models/schema.yml': SOURCE_FRESHNESS, 'models/spend.sql': OFFLINE_VIEW }));
  assert.equal(fsql(['--project-dir', dir, 'run']).code, 0);
  const at = (hours: number) => levels(dir, NEWEST.plusSeconds(hours * 3600));
  assert.deepEqual(await at(0.5), { 'source raw.payments': 'pass', spend: 'pass' });
  assert.deepEqual(await at(3), { 'source raw.payments': 'warn', spend: 'warn' });
  assert.deepEqual(await at(48), { 'source raw.payments': 'error', spend: 'warn' });
  assert.deepEqual(await at(100), { 'source raw.payments': 'error', spend: 'error' });
});

test('an online view without a freshness block keeps the TTL rule; loaded_at_field is measured when given', async () => {
  const loaded = MINI_CSV.replace('user_id,amount,ts', 'user_id,amount,ts,loaded_at').replace(/(\d{2}:\d{2}:\d{2})\n/g, '$1,2024-01-05 00:00:00\n');
  const yml = SOURCE_FRESHNESS.replace('        timestamp: ts\n', '        timestamp: ts\n        loaded_at_field: loaded_at\n');
  const dir = makeProject(mini({ 'data/payments.csv': loaded, 'models/schema.yml': yml }));
  assert.equal(fsql(['--project-dir', dir, 'run']).code, 0);
  // loaded 2024-01-05: fresh 30 minutes later although its newest event is two days older
  assert.deepEqual(await levels(dir, Timestamp.parse('2024-01-05T00:30:00Z')!), { 'source raw.payments': 'pass', spend: 'error' });
});

test('fsql freshness: a warning prints and exits 0, an error exits 1 naming what is stale; a freshness block without a time is refused', () => {
  const hoursAgo = (h: number) => new Date(Date.now() - h * 3600_000).toISOString().replace('T', ' ').slice(0, 19);
  const csv = `user_id,amount,ts\nu1,10,${hoursAgo(5)}\nu2,5,${hoursAgo(2)}\n`;
  const offline = MINI_VIEW.replace("ttl='2d')", "ttl='2d', online=false)");
  const warn = makeProject(mini({ 'data/payments.csv': csv, 'models/schema.yml': SOURCE_FRESHNESS, 'models/spend.sql': offline }));
  assert.equal(fsql(['--project-dir', warn, 'run']).code, 0);
  const w = fsql(['--project-dir', warn, 'freshness']);
  assert.equal(w.code, 0, w.stderr);
  assert.match(w.stdout, /^source raw\.payments\s+\S+Z\s+-\s+2\.0h\s+warn 1\.0h, error 1\.0d\s+WARN$/m);
  assert.match(w.stderr, /1 past warn_after: source raw\.payments/);

  const strict = makeProject(mini({ 'data/payments.csv': csv, 'models/schema.yml': SOURCE_FRESHNESS.replace('error_after: 1d', 'error_after: 90m'), 'models/spend.sql': offline }));
  assert.equal(fsql(['--project-dir', strict, 'run']).code, 0);
  const e = fsql(['--project-dir', strict, 'freshness', '--json']);
  assert.equal(e.code, 1);
  assert.equal(JSON.parse(e.stdout.trim().split('\n')[0]).level, 'error');
  assert.match(e.stderr, /1 stale .*: source raw\.payments/);

  const bad = makeProject(mini({ 'models/schema.yml': SOURCE_FRESHNESS.replace('        timestamp: ts\n', '') }));
  const b = fsql(['--project-dir', bad, 'compile']);
  assert.equal(b.code, 1);
  assert.match(b.stderr, /models\/schema\.yml:\d+: freshness of source table 'raw\.payments' needs a time to measure: add timestamp: or loaded_at_field:/);
});
