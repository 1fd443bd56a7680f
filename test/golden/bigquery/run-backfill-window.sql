-- user_transaction_stats: aggregate incremental (per-tile tables shown; views of the events instead where a full build finds under 1.5 rows per tile)
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
  where r.`__fsql_tile` >= 475536 and r.`ts` >= timestamp '2024-04-01 00:00:00.000000+00'
group by r.`user_id`, r.`__fsql_tile`;
commit;
