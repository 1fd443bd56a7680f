select user_id, merchant_id, ts, amount from "ANALYTICS"."RAW"."TRANSACTIONS"
