/** A small valid project that tests change one file of to provoke one error. */
export const MINI_CSV = `user_id,amount,ts
u1,10,2024-01-01 00:00:00
u1,20,2024-01-01 12:00:00
u2,5,2024-01-02 00:00:00
u1,40,2024-01-03 00:00:00
`;

export const MINI_YML = `sources:
  - name: raw
    tables:
      - name: payments
        path: data/payments.csv
        timestamp: ts
entities:
  - name: user
    join_keys: [user_id]
feature_services:
  - name: svc
    features:
      - spend: [spend_1d]
`;

export const MINI_VIEW = `{{ config(entities=['user'], timestamp='event_ts', ttl='2d') }}
select
  user_id,
  ts as event_ts,
  sum(amount) over ({{ rolling_window('user_id', 'ts', '1d') }}) as spend_1d
from {{ source('raw', 'payments') }}
`;

export function mini(overrides: Record<string, string> = {}): Record<string, string> {
  return { 'data/payments.csv': MINI_CSV, 'models/schema.yml': MINI_YML, 'models/spend.sql': MINI_VIEW, ...overrides };
}

/** An aggregate view's .sql (SPEC section 9): tile 1h, the agg() lines given, then the SELECT. */
export function aggregateView(aggregations: string, select: string, extra = ''): string {
  return `{{ config(
    materialized='aggregate',
    entities=['user'],
    timestamp='ts',
    tile='1h',${extra}
    aggregations=[
${aggregations}
    ]
) }}
${select}
`;
}
