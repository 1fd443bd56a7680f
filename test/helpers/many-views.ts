/**
 * A generated project of `count` feature views over one small source, for the docs site at scale:
 * every tenth view reads the view before it (lineage deeper than one hop), each view has five
 * features, and services of 50 views each.
 */
import { makeProject } from './project.js';

export function manyViewsProject(count: number): string {
  const files: Record<string, string> = {};
  const csv = ['user_id,amount,ts', ...Array.from({ length: 50 }, (_, i) => `u${i % 7},${(i * 13) % 97},2024-01-0${1 + (i % 9)} 0${i % 10}:00:00`)];
  files['data/events.csv'] = csv.join('\n') + '\n';
  const name = (i: number) => `view_${String(i).padStart(4, '0')}`;
  const docs: string[] = [];
  for (let i = 0; i < count; i++) {
    const from = i % 10 === 9 ? `{{ ref('${name(i - 1)}') }}` : "{{ source('raw', 'events') }}";
    const [amount, ts] = i % 10 === 9 ? ['f_sum', 'event_ts'] : ['amount', 'ts'];
    files[`models/group_${Math.floor(i / 100)}/${name(i)}.sql`] = `{{ config(entities=['user'], timestamp='event_ts', ttl='${1 + (i % 30)}d', owner='team-${i % 5}', tags=['group_${Math.floor(i / 100)}']) }}
select
  user_id,
  ${ts} as event_ts,
  ${amount} as f_last,
  sum(${amount}) over ({{ rolling_window('user_id', '${ts}', '1d') }}) as f_sum,
  count(*) over ({{ rolling_window('user_id', '${ts}', '1d') }}) as f_count,
  avg(${amount}) over ({{ rolling_window('user_id', '${ts}', '7d') }}) as f_avg,
  max(${amount}) over ({{ rolling_window('user_id', '${ts}', '7d') }}) as metric_${i}_max
from ${from}
`;
    docs.push(`  - name: ${name(i)}\n    description: Generated view number ${i}\n    columns:\n      - name: metric_${i}_max\n        description: The largest amount over 7 days (view ${i})`);
  }
  const services = Array.from({ length: Math.ceil(count / 50) }, (_, s) => `  - name: service_${s}\n    features:\n${Array.from({ length: Math.min(50, count - s * 50) }, (_, k) => `      - ${name(s * 50 + k)}`).join('\n')}`);
  files['models/schema.yml'] = `sources:
  - name: raw
    tables:
      - name: events
        path: data/events.csv
        timestamp: ts
entities:
  - name: user
    join_keys: [user_id]
feature_views:
${docs.join('\n')}
feature_services:
${services.join('\n')}
`;
  return makeProject(files, 'many');
}
