{{ config(materialized='on_demand', inputs=['txn_request', 'user_transaction_stats'], description='The scored transaction against the card holder history') }}
-- Request-time features (README, "Request-time features"): evaluated by the server at request
-- time and by the warehouse in `fsql train`, from this one definition.
select
  amount / user_transaction_stats.avg_amount_7d                  as amount_vs_avg_7d,
  amount > 3 * coalesce(user_transaction_stats.max_amount_7d, 0) as exceeds_3x_max_7d,
  round(amount - coalesce(user_transaction_stats.avg_amount_7d, 0)) as amount_minus_avg_7d
