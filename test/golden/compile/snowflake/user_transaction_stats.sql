-- The card holder's transactions as events; each window is computed at the moment of use
-- (t - W <= ts < t): before the scored transaction in training, before the request when serving.
select
  user_id,
  ts,
  amount,
  case when amount >= 500 then 1 else 0 end as is_large
from "ANALYTICS"."RAW"."TRANSACTIONS"
