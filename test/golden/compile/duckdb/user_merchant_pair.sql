select user_id, merchant_id, ts, amount from read_csv('data/transactions.csv', auto_detect = true, header = true)
