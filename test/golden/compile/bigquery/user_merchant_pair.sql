select user_id, merchant_id, ts, amount from `acme-ml.raw.transactions`
