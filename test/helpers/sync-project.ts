/**
 * A small project for sync tests whose data the test owns: events.csv with timestamps relative to
 * now, a view with a created_timestamp, a TTL and a lookback, a view past its TTL, a view with
 * online=false, and the rows a correct sync must leave online, computed here independently.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { Timestamp } from '../../src/values.js';
import { makeProject } from './project.js';

export interface EventRow {
  user_id: string | null;
  ts: Timestamp;
  created: Timestamp | null;
  amount: number;
  n: bigint;
  flag: boolean;
  tag: string;
}

export const USER_STATS = `{{ config(entities=['user'], timestamp='event_ts', created_timestamp='created_ts', ttl='30d', lookback='1h') }}
select user_id, ts as event_ts, created as created_ts, amount, n, flag, tag, [n, n + 1] as pair
from {{ source('raw', 'events') }}
`;

const PROJECT_FILES = (targets: string) => ({
  'fsql_project.yml': 'name: shop\n',
  'profiles.yml': `shop:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: target/dev.duckdb
      online_store: {type: sqlite, path: target/online.sqlite}
${targets}`,
  'models/schema.yml': `sources:
  - name: raw
    tables:
      - name: events
        path: data/shop_events.csv
        timestamp: ts
entities:
  - name: user
    join_keys: [user_id]
feature_services:
  - name: svc
    features:
      - user_stats
    online: true
`,
  'data/shop_events.csv': 'user_id,ts,created,amount,n,flag,tag\n',
  'models/user_stats.sql': USER_STATS,
  'models/stale_view.sql': `{{ config(entities=['user'], timestamp='event_ts', ttl='1h') }}
select user_id, {{ time_sub('ts', '3h') }} as event_ts, amount as x from {{ source('raw', 'events') }}
`,
  'models/audit.sql': `{{ config(entities=['user'], timestamp='event_ts', online=false) }}
select user_id, ts as event_ts, amount from {{ source('raw', 'events') }}
`,
});

/** A target block for profiles.yml: the same DuckDB file, another online store. */
export function target(name: string, onlineStore: string): string {
  return `    ${name}:\n      type: duckdb\n      path: target/dev.duckdb\n      online_store: ${onlineStore}\n`;
}

export function syncProject(targets = ''): string {
  return makeProject(PROJECT_FILES(targets), 'shop');
}

function csvLine(r: EventRow): string {
  return [r.user_id ?? '', r.ts.toSqlText(), r.created ? r.created.toSqlText() : '', r.amount, r.n, r.flag, r.tag].join(',') + '\n';
}

export function appendEvents(dir: string, rows: EventRow[]): void {
  appendFileSync(join(dir, 'data', 'shop_events.csv'), rows.map(csvLine).join(''));
}

/** What user_stats must hold online at `now`: per user, the newest row with ts in [now - 30d, now], ties by created (NULL lowest). */
export function expectedLatest(rows: EventRow[], now: Timestamp): Map<string, EventRow> {
  const out = new Map<string, EventRow>();
  const oldest = now.micros - 30n * 86400n * 1000000n;
  const createdOf = (r: EventRow) => r.created?.micros ?? -(1n << 63n);
  for (const r of rows) {
    if (r.user_id === null || r.ts.micros > now.micros || r.ts.micros < oldest) continue;
    const have = out.get(r.user_id);
    if (!have || r.ts.micros > have.ts.micros || (r.ts.micros === have.ts.micros && createdOf(r) > createdOf(have))) out.set(r.user_id, r);
  }
  return out;
}

/** Deterministic rows: `users` users, `perUser` rows each, spread between `from` and `to` seconds from now. */
export function makeEvents(users: number, perUser: number, fromSeconds: number, toSeconds: number, prefix = 'u'): EventRow[] {
  const rows: EventRow[] = [];
  const now = Date.now();
  for (let u = 0; u < users; u++) {
    for (let i = 0; i < perUser; i++) {
      const offset = fromSeconds + ((toSeconds - fromSeconds) * ((u * 7 + i * 13) % 97)) / 97;
      const ts = Timestamp.fromMillis(Math.floor((now + offset * 1000) / 1000) * 1000);
      rows.push({ user_id: `${prefix}${u}`, ts, created: null, amount: Math.round((u * 1.37 + i * 10.01) * 100) / 100, n: BigInt(u * 1000 + i), flag: (u + i) % 2 === 0, tag: `t${i}` });
    }
  }
  return rows;
}
