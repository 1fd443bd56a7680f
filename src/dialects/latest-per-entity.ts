/**
 * SQL for the LatestPerEntity plan: the shared conditions and order, in the dialect's form of
 * "first row per partition" (Dialect.latestPerEntity: QUALIFY, or DISTINCT ON). BigQuery wants a
 * WHERE beside QUALIFY, which the not-null filter on the join keys provides. `desc nulls last` is
 * spelled out because Snowflake sorts NULLs first in descending order.
 */
import type { LatestPerEntityPlan } from '../plans/latest-per-entity.js';
import type { Dialect } from './dialect.js';

export function renderLatestPerEntity(plan: LatestPerEntityPlan, d: Dialect): string {
  const q = (c: string) => d.quoteIdent(c);
  const ts = q(plan.timestamp);
  const where = [...plan.joinKeys.map((k) => `${q(k)} is not null`), `${ts} is not null`];
  if (plan.since) where.push(`${ts} >= ${d.timestampLiteral(plan.since)}`);
  if (plan.until) where.push(`${ts} <= ${d.timestampLiteral(plan.until)}`);
  return d.latestPerEntity({
    columns: plan.columns.length > 0 ? plan.columns.map(q).join(', ') : '*',
    from: d.relation(plan.table),
    where,
    partition: plan.joinKeys.map(q),
    order: [`${ts} desc`, ...(plan.createdTimestamp ? [`${q(plan.createdTimestamp)} desc nulls last`] : []), `${d.tieBreak(plan.features.map(q))} desc`],
  });
}
