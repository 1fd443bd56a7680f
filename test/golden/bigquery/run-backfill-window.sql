-- user_rolling_sql: incremental
merge into `acme-ml.features.user_rolling_sql` as fsql_t
using (
select * from (
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

where ts >= timestamp '2024-03-25 00:00:00.000000+00'

) where `event_ts` >= timestamp '2024-04-01 00:00:00.000000+00' and `event_ts` < timestamp '2024-04-08 06:30:00.000250+00'
) as fsql_s
on false
when not matched by source and fsql_t.`event_ts` >= timestamp '2024-04-01 00:00:00.000000+00' and fsql_t.`event_ts` < timestamp '2024-04-08 06:30:00.000250+00' then delete
when not matched then insert row;

-- user_transaction_stats: aggregate incremental
begin transaction;
merge into `acme-ml.features.user_transaction_stats` as fsql_t
using (
select * from (
select s.*, div((unix_micros(s.`ts`)) - mod(mod(unix_micros(s.`ts`), 3600000000) + 3600000000, 3600000000), 3600000000) as `__fsql_tile`
from (
-- The card holder's transactions as events; each window is computed at the moment of use
-- (t - W <= ts < t): before the scored transaction in training, before the request when serving.
select
  user_id,
  ts,
  amount,
  case when amount >= 500 then 1 else 0 end as is_large
from `acme-ml.raw.transactions`
) as s
where s.`ts` is not null and s.`user_id` is not null
) where `ts` >= timestamp '2024-04-01 00:00:00.000000+00' and `ts` < timestamp '2024-04-08 06:30:00.000250+00'
) as fsql_s
on false
when not matched by source and fsql_t.`ts` >= timestamp '2024-04-01 00:00:00.000000+00' and fsql_t.`ts` < timestamp '2024-04-08 06:30:00.000250+00' then delete
when not matched then insert row;
delete from `acme-ml.features.user_transaction_stats__tiles` where `__fsql_tile` >= 475536;
insert into `acme-ml.features.user_transaction_stats__tiles`
select r.`user_id`, r.`__fsql_tile`, count(*) as `fsql_rows`, count(r.`amount`) as `fsql_n_0`, sum(r.`amount`) as `fsql_s_0`, max(r.`amount`) as `fsql_max_0`, count(r.`is_large`) as `fsql_n_1`, sum(r.`is_large`) as `fsql_s_1`
from `acme-ml.features.user_transaction_stats` as r
  where r.`__fsql_tile` >= 475536
group by r.`user_id`, r.`__fsql_tile`;
commit;
