-- One row per (user, transaction time): the user's activity up to and including that moment.
-- Compare with user_transaction_stats (README, "Time-window aggregations"): trained on these rows,
-- a model sees the scored transaction inside its own windows, and is served the values of the
-- user's previous transaction; no service uses this view.
select distinct
  user_id,
  ts as event_ts,
  count(*) over (partition by user_id order by unix_micros(ts) range between 3600000000 preceding and current row) as txn_count_1h,
  sum(amount) over (partition by user_id order by unix_micros(ts) range between 3600000000 preceding and current row) as spend_1h,
  count(*) over (partition by user_id order by unix_micros(ts) range between 86400000000 preceding and current row) as txn_count_1d,
  sum(amount) over (partition by user_id order by unix_micros(ts) range between 86400000000 preceding and current row) as spend_1d,
  count(*) over (partition by user_id order by unix_micros(ts) range between 604800000000 preceding and current row) as txn_count_7d,
  sum(amount) over (partition by user_id order by unix_micros(ts) range between 604800000000 preceding and current row) as spend_7d,
  avg(amount) over (partition by user_id order by unix_micros(ts) range between 604800000000 preceding and current row) as avg_amount_7d,
  max(amount) over (partition by user_id order by unix_micros(ts) range between 604800000000 preceding and current row) as max_amount_7d,
  sum(case when amount >= 500 then 1 else 0 end) over (partition by user_id order by unix_micros(ts) range between 86400000000 preceding and current row) as large_txn_count_1d
from `acme-ml.raw.transactions`
