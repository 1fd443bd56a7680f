select distinct
  user_id,
  merchant_id,
  ts as event_ts,
  count(*) over (partition by user_id, merchant_id order by ts range between interval '30 days' preceding and current row) as pair_txn_count_30d,
  sum(amount) over (partition by user_id, merchant_id order by ts range between interval '30 days' preceding and current row) as pair_spend_30d
from "ANALYTICS"."RAW"."TRANSACTIONS"
