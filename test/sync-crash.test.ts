/**
 * Crash safety: `fsql sync` is killed with SIGKILL at random points (after a random number of its
 * write batches has landed, watched from outside, or after a random delay, also during
 * --full-refresh), run
 * again, and the store must then equal the offline table's latest rows, entity by entity — on
 * SQLite and on Redis, across a change of the offline data between crashes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { openOnlineStore } from '../src/online/open.js';
import { loadProject } from '../src/project/load.js';
import { Timestamp } from '../src/values.js';
import { FSQL_BIN, fsql, makeProject } from './helpers/project.js';
import { random } from './helpers/online-writer.js';
import { startRedis, type RedisServer } from './helpers/redis.js';

const BASE = Timestamp.parse('2025-01-01T00:00:00Z')!;

/**
 * Two rows per user, each user at its own second (hours apart, far wider than the 10-minute
 * lookback, so a watermark moved too early loses rows); a data `version` moves every fifth user's
 * rows 2 x USERS seconds later (past the previous watermark), with new values.
 */
const view = (USERS: number) => `{{ config(entities=['user'], timestamp='event_ts', lookback='10m') }}
select
  'u' || (i % ${USERS}) as user_id,
  timestamp '${BASE.toSqlText()}' + to_seconds(i % ${USERS} + (i // ${USERS}) * 60 + case when i % ${USERS} % 5 = 0 then {{ var('version') }} * ${2 * USERS} else 0 end) as event_ts,
  i * 0.5 + case when i % ${USERS} % 5 = 0 then {{ var('version') }} else 0 end as amount,
  i + case when i % ${USERS} % 5 = 0 then {{ var('version') }} else 0 end as n
from range(${USERS * 2}) t(i)
`;

function expected(USERS: number, version: number): Map<string, { ts: bigint; amount: number; n: bigint }> {
  const out = new Map<string, { ts: bigint; amount: number; n: bigint }>();
  for (let u = 0; u < USERS; u++) {
    const i = u + USERS;
    const bump = u % 5 === 0 ? version : 0;
    out.set(`u${u}`, { ts: BASE.micros + BigInt(u + 60 + bump * 2 * USERS) * 1000000n, amount: i * 0.5 + bump, n: BigInt(i + bump) });
  }
  return out;
}

let redis: RedisServer;

before(async () => {
  redis = await startRedis();
});

after(async () => {
  await redis?.stop();
});

for (const kind of ['sqlite', 'redis'] as const) {
  test(`${kind}: SIGKILL at random points, then a re-run: the store equals the latest offline rows`, async (t) => {
    // SQLite commits once per 5,000-row batch: more rows give more points to be killed between.
    const users = kind === 'sqlite' ? 40000 : 20000;
    const dir = makeProject(
      {
        'fsql_project.yml': 'name: crash\nvars: {version: 0}\n',
        'profiles.yml': `crash:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: target/dev.duckdb\n      online_store: ${kind === 'sqlite' ? '{type: sqlite, path: target/online.sqlite}' : `{type: redis, url: "${redis.url}/3"}`}\n`,
        'models/schema.yml': 'entities:\n  - name: user\n    join_keys: [user_id]\n',
        'models/user_rows.sql': view(users),
      },
      'crash',
    );
    const count = kind === 'sqlite' ? sqliteCommits(join(dir, 'target', 'online.sqlite')) : redisScriptCalls(redis.port);
    const maxBatches = kind === 'sqlite' ? 7 : 36;
    const rnd = random(kind === 'sqlite' ? 7 : 11);
    let kills = 0;
    try {
      for (const version of [0, 1]) {
        const run = fsql(['--project-dir', dir, '--vars', `{version: ${version}}`, 'run'], { cwd: dir });
        assert.equal(run.code, 0, run.stderr);
        // Three syncs per version are killed at random points: after some write batches, or after
        // some time. A sync that finishes first is retried (up to three times) while it still has
        // rows to push; a finished incremental sync has none left, so the plan moves on.
        for (const args of [['sync'], ['sync', '--full-refresh'], ['sync']]) {
          for (let attempt = 0; attempt < 3; attempt++) {
            const when = (kills + attempt) % 2 === 0 ? { batches: 1 + Math.floor(rnd() * maxBatches), count } : { ms: 300 + Math.floor(rnd() * 1200) };
            const killed = await syncAndKill(dir, args, when);
            t.diagnostic(`version ${version}: ${args.join(' ')} ${killed ? 'killed' : 'finished'} (${'ms' in when ? `after ${when.ms} ms` : `after ${when.batches} batch(es)`})`);
            if (killed) kills++;
            if (killed || args.length === 1) break;
          }
        }
        const done = fsql(['--project-dir', dir, 'sync'], { cwd: dir });
        assert.equal(done.code, 0, done.stderr);
        await assertConverged(dir, expected(users, version));
      }
      assert.ok(kills >= 4, `at least 4 of the 6 planned syncs must have been killed part-way (killed ${kills})`);
    } finally {
      await count.close();
    }
  });
}

/** A number that grows each time a sync's write batch lands in the store, read from outside. */
interface Counter {
  progress(): Promise<number>;
  close(): Promise<void>;
}

/** SQLite: PRAGMA data_version changes whenever another connection commits (one write batch = one commit). */
function sqliteCommits(path: string): Counter {
  let db: Database.Database | undefined;
  let commits = 0;
  let last: number | undefined;
  return {
    async progress() {
      try {
        db ??= new Database(path, { readonly: true, fileMustExist: true });
        const v = db.pragma('data_version', { simple: true }) as number;
        if (last !== undefined && v !== last) commits++;
        last = v;
      } catch {
        // the file does not exist yet
      }
      return commits;
    },
    async close() {
      db?.close();
    },
  };
}

/** Redis: write script calls (up to 500 rows each) plus SET ... NX calls (one row each) / 500, so far. */
function redisScriptCalls(port: number): Counter {
  const client = new Redis({ port, host: '127.0.0.1' });
  return {
    async progress() {
      const stats = String(await client.info('commandstats'));
      const calls = (name: string) => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
      return calls('evalsha') + calls('eval') + Math.floor(calls('set') / 500);
    },
    async close() {
      client.disconnect();
    },
  };
}

/**
 * Runs `fsql sync` and kills it with SIGKILL once `batches` more write batches have landed (or
 * after `ms`). Returns whether it was killed before finishing on its own.
 */
async function syncAndKill(dir: string, args: string[], when: { batches: number; count: Counter } | { ms: number }): Promise<boolean> {
  const start = 'batches' in when ? await when.count.progress() : 0;
  const child = spawn(process.execPath, [FSQL_BIN, '--project-dir', dir, ...args], { cwd: dir, stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let finished = false;
  void exited.then(() => (finished = true));
  if ('ms' in when) {
    await Promise.race([exited, new Promise((r) => setTimeout(r, when.ms))]);
  } else {
    const deadline = Date.now() + 20000;
    while (!finished && Date.now() < deadline && (await when.count.progress()) - start < when.batches) await new Promise((r) => setTimeout(r, 2));
  }
  if (finished) return false;
  child.kill('SIGKILL');
  await exited;
  return true;
}

async function assertConverged(dir: string, want: Map<string, { ts: bigint; amount: number; n: bigint }>): Promise<void> {
  const store = await openOnlineStore(loadProject({ projectDir: dir }), { purgeIntervalMs: 0 });
  try {
    const layout = (await store.getLayouts()).find((l) => l.view === 'user_rows')!;
    const users = [...want.keys()];
    const got = await store.read(users.map((u) => ({ layout, key: [u] })));
    let wrong = 0;
    const examples: string[] = [];
    users.forEach((u, i) => {
      const w = want.get(u)!;
      const g = got[i];
      if (!g || g.ts.micros !== w.ts || g.values.amount !== w.amount || g.values.n !== w.n) {
        wrong++;
        if (examples.length < 3) examples.push(`${u}: online ${g ? `${g.ts.toISOString()} ${String(g.values.amount)} ${String(g.values.n)}` : 'missing'}, offline ${new Timestamp(w.ts).toISOString()} ${w.amount} ${w.n}`);
      }
    });
    assert.equal(wrong, 0, `${wrong} of ${users.length} entities differ from the offline table, e.g. ${examples.join('; ')}`);
    assert.equal((await store.getWatermark('user_rows'))!.micros, [...want.values()].reduce((m, w) => (w.ts > m ? w.ts : m), 0n));
  } finally {
    await store.close();
  }
}
