select distinct
  user_id,
  merchant_id,
  ts as event_ts,
  count(*) over (partition by user_id, merchant_id order by unix_micros(ts) range between 2592000000000 preceding and current row) as pair_txn_count_30d,
  sum(amount) over (partition by user_id, merchant_id order by unix_micros(ts) range between 2592000000000 preceding and current row) as pair_spend_30d
from `acme-ml.raw.transactions`
