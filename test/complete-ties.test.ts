/**
 * Rows that tie completely on (keys, timestamp) are a data error that retrieval settles by one
 * rule (SPEC section 4; Dialect.tieBreak): two trains give identical files, train picks the row
 * sync stores, and a sync killed at random points and re-run leaves the store a clean sync leaves.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openOnlineStore } from '../src/online/open.js';
import { loadProject } from '../src/project/load.js';
import { seededRandom } from '../src/seeded-random.js';
import type { Value } from '../src/values.js';
import { DUCKDB_PROFILE, FSQL_BIN, fsql, makeProject } from './helpers/project.js';

const USERS = 40_000;
const TIES = 4;

const PROFILES = DUCKDB_PROFILE(
  'ties',
  ['a', 'b'].map((t) => `    ${t}:\n      type: duckdb\n      path: target/dev.duckdb\n      schema: main\n      threads: 2\n      online_store: {type: sqlite, path: target/${t}.sqlite}\n`).join(''),
);

function project(): string {
  return makeProject({
    'profiles.yml': PROFILES,
    'fsql_project.yml': 'name: ties\nprofile: ties\n',
    'models/ties.sql': `{{ config(entities=['user'], timestamp='event_ts') }}
-- ${TIES} rows per user at the same instant, with different values: complete ties
select 'u' || (i % ${USERS}) as user_id, timestamp '2025-01-01 00:00:00' + to_seconds(i % ${USERS}) as event_ts,
  hash(i) % 1000 as n, 'v' || i as tag
from range(${USERS * TIES}) t(i)
`,
    'models/ties.yml': `entities:\n  - name: user\n    join_keys: [user_id]\nfeature_services:\n  - name: svc\n    features: [ties]\n`,
  });
}

async function storeRows(dir: string, target: string): Promise<string[]> {
  const p = loadProject({ projectDir: dir, target });
  const store = await openOnlineStore(p);
  try {
    const [layout] = await store.getLayouts();
    const rows = await store.read(Array.from({ length: USERS }, (_, u) => ({ layout, key: [`u${u}`] as Value[] })));
    return rows.map((r, u) => `u${u} ${r ? `${r.ts.toISOString()} ${String(r.values.n)} ${String(r.values.tag)}` : 'none'}`);
  } finally {
    await store.close();
  }
}

function killedSync(dir: string, target: string, afterMs: number): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [FSQL_BIN, '--project-dir', dir, '--target', target, 'sync'], { stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), afterMs);
    child.on('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

test('complete ties: train is repeatable and picks what sync stores; a killed and re-run sync equals a clean one', { timeout: 240_000 }, async () => {
  const dir = project();
  const events = join(dir, 'events.csv');
  writeFileSync(events, `user_id,event_timestamp\n${Array.from({ length: USERS }, (_, u) => `u${u},2025-01-02 00:00:00`).join('\n')}\n`);
  assert.equal(fsql(['--project-dir', dir, 'run']).code, 0);

  const train = (out: string) => {
    const r = fsql(['--project-dir', dir, 'train', '--service', 'svc', '--events', events, '--out', join(dir, out)]);
    assert.equal(r.code, 0, r.stderr);
    return readFileSync(join(dir, out), 'utf8');
  };
  const first = train('one.csv');
  assert.equal(train('two.csv'), first, 'two trains on the same data differ');

  const clean = fsql(['--project-dir', dir, '--target', 'b', 'sync']);
  assert.equal(clean.code, 0, clean.stderr);
  const expected = await storeRows(dir, 'b');
  const trained = first.trim().split('\n').slice(1).map((line) => line.split(','));
  trained.forEach(([user, , n, tag], u) => assert.ok(expected[u].endsWith(` ${n} ${tag}`) && expected[u].startsWith(`${user} `), `${user}: trained ${n} ${tag}, stored ${expected[u]}`));

  const random = seededRandom(7);
  for (let round = 0; round < 3; round++) await killedSync(dir, 'a', 200 + Math.floor(random() * 1500));
  const finished = fsql(['--project-dir', dir, '--target', 'a', 'sync']);
  assert.equal(finished.code, 0, finished.stderr);
  assert.deepEqual(await storeRows(dir, 'a'), expected);
});
