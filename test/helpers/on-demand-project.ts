/** The example project with a request source and an on-demand view in fraud_detection (SPEC section 10). */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { copyExample } from './project.js';

export const REQUEST_YAML = `request_sources:
  - name: txn_request
    description: The transaction being scored
    schema: {amount: float64, merchant_category: string, card_present: boolean}
`;

export const ON_DEMAND_SQL = `{{ config(materialized='on_demand', inputs=['txn_request', 'user_transaction_stats'], description='The scored amount against the card holder history') }}
select
  amount / user_transaction_stats.avg_amount_7d                          as amount_vs_avg_7d,
  amount > 3 * coalesce(user_transaction_stats.max_amount_7d, 0)         as exceeds_3x_max_7d,
  case when merchant_category in ('gambling', 'crypto') then 1 else 0 end as risky_category,
  upper(merchant_category) || ':' || cast(card_present as string)         as category_card
`;

/** A copy of the example with txn_request and models/ondemand/txn_vs_history.sql, served by fraud_detection. */
export function onDemandExample(sql = ON_DEMAND_SQL): string {
  return addOnDemand(copyExample({ handWrittenWindows: true }), sql);
}

/** Adds the request source and the on-demand view to a copy of the example. */
export function addOnDemand(dir: string, sql = ON_DEMAND_SQL): string {
  writeFileSync(join(dir, 'models', 'requests.yml'), REQUEST_YAML);
  mkdirSync(join(dir, 'models', 'ondemand'), { recursive: true });
  writeFileSync(join(dir, 'models', 'ondemand', 'txn_vs_history.sql'), sql);
  const features = join(dir, 'models', 'features.yml');
  writeFileSync(features, readFileSync(features, 'utf8').replace('      - user_merchant_pair\n', '      - user_merchant_pair\n      - txn_vs_history\n'));
  return dir;
}
