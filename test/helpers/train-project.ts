/**
 * A small project for `fsql train` tests: three views keyed on a user, a merchant and both, one
 * with a created_timestamp, TTLs of an hour, none and a day; feature rows and events chosen so
 * every rule of SPEC section 4 shows in a few rows that can be checked by eye.
 */
import { makeProject } from './project.js';

const PROFILES = `train:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: target/dev.duckdb
      schema: main
      threads: 2
    prod:
      type: bigquery
      method: service-account
      project: acme-ml
      dataset: features
      keyfile: /secrets/none.json
    sf:
      type: snowflake
      account: xy12345.us-east-1
      user: fsql
      password: not-used-by-dry-runs
      database: ANALYTICS
      schema: FEATURES
    pg:
      type: postgres
      host: 127.0.0.1
      user: fsql
      dbname: analytics
      schema: features
`;

const SOURCES = `sources:
  - name: raw
    tables:
      - name: user_feed
        path: data/user_feed.csv
        timestamp: ts
      - name: merchant_feed
        path: data/merchant_feed.csv
        timestamp: ts
      - name: pair_feed
        path: data/pair_feed.csv
        timestamp: ts
entities:
  - name: user
    join_keys: [user_id]
  - name: merchant
    join_keys: [merchant_id]
feature_services:
  - name: training
    features:
      - user_stats
      - merchant_profile: [risk]
      - pair_stats
  - name: users_only
    features:
      - user_stats: [score]
`;

// u1 at 10:00 has three rows: two tie on the timestamp and the later-loaded one wins.
export const USER_FEED = `user_id,ts,loaded_at,score,tier
u1,2024-03-01 09:30:00,2024-03-01 09:31:00,1.0,a
u1,2024-03-01 10:00:00,2024-03-01 10:05:00,3.0,c
u1,2024-03-01 10:00:00,2024-03-01 10:01:00,2.0,b
u2,2024-03-01 12:00:00,2024-03-01 12:00:00,9.0,z
,2024-03-01 08:00:00,2024-03-01 08:00:00,99.0,null-key
`;

export const MERCHANT_FEED = `merchant_id,ts,category,risk
1,2024-03-01 00:00:00,food,0.1
1,2024-03-01 10:30:00,food,0.4
2,2024-02-01 00:00:00,travel,0.9
`;

export const PAIR_FEED = `user_id,merchant_id,ts,pair_count
u1,1,2024-03-01 09:00:00,5
u1,2,2024-03-01 09:00:00,7
u2,1,2024-02-27 12:00:00,1
`;

export const EVENTS = `event_id,user_id,merchant_id,event_timestamp,label
e1,u1,1,2024-03-01 10:00:00,1
e2,u1,1,2024-03-01 11:00:00,0
e3,u1,2,2024-03-01 11:00:01,0
e4,u2,1,2024-03-01 09:00:00,1
e5,,2,2024-03-01 12:00:00,0
e1,u1,1,2024-03-01 10:00:00,1
e6,u9,9,2024-03-01 10:00:00,0
`;

/** The training table of `training` for EVENTS, as DuckDB writes it to csv. */
export const EXPECTED_TRAINING = `event_id,user_id,merchant_id,event_timestamp,label,user_stats__score,user_stats__tier,merchant_profile__risk,pair_stats__pair_count
e1,u1,1,2024-03-01 10:00:00,1,3.0,c,0.1,5
e2,u1,1,2024-03-01 11:00:00,0,3.0,c,0.4,5
e3,u1,2,2024-03-01 11:00:01,0,,,0.9,7
e4,u2,1,2024-03-01 09:00:00,1,,,0.1,
e5,,2,2024-03-01 12:00:00,0,,,0.9,
e1,u1,1,2024-03-01 10:00:00,1,3.0,c,0.1,5
e6,u9,9,2024-03-01 10:00:00,0,,,,
`;

export const VIEWS: Record<string, string> = {
  'models/user_stats.sql': `{{ config(entities=['user'], timestamp='feature_ts', created_timestamp='loaded_at', ttl='1h') }}
select user_id, ts as feature_ts, loaded_at, score, tier
from {{ source('raw', 'user_feed') }}
`,
  'models/merchant_profile.sql': `{{ config(entities=['merchant'], timestamp='feature_ts') }}
select merchant_id, ts as feature_ts, category, risk
from {{ source('raw', 'merchant_feed') }}
`,
  'models/pair_stats.sql': `{{ config(entities=['user', 'merchant'], timestamp='feature_ts', ttl='1d') }}
select user_id, merchant_id, ts as feature_ts, pair_count
from {{ source('raw', 'pair_feed') }}
`,
};

export function trainProject(overrides: Record<string, string> = {}): string {
  return makeProject(
    {
      'profiles.yml': PROFILES,
      'models/sources.yml': SOURCES,
      'data/user_feed.csv': USER_FEED,
      'data/merchant_feed.csv': MERCHANT_FEED,
      'data/pair_feed.csv': PAIR_FEED,
      'data/events.csv': EVENTS,
      ...VIEWS,
      ...overrides,
    },
    'train',
  );
}
