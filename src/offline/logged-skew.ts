/**
 * `fsql skew-check --logged <service>`: the strongest skew check, on what was really served. The
 * logged requests (`fsql logs load`) are recomputed as training rows with the SQL `fsql train`
 * runs (request time = event time) into a scratch table, and each served value is compared with
 * the recomputed one in the warehouse (dialects/logged.ts renderLoggedSkew).
 */
import { randomBytes } from 'node:crypto';
import { renderLoggedSkew } from '../dialects/logged.js';
import { REQUEST_ID, REQUEST_ROW } from '../feature-log/segment.js';
import type { Logger } from '../log.js';
import type { TimeRange } from '../plans/relation.js';
import type { Project } from '../project/types.js';
import type { Value } from '../values.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { LOGGED_PREFIX, loggedEvents } from './logged-events.js';
import { sameValue } from './skew-check.js';
import { train } from './train.js';

export interface LoggedDifference {
  requestId: string;
  requestRow: bigint;
  /** `<view>__<feature>` */
  feature: string;
  served: Value;
  training: Value;
}

export interface LoggedSkewResult {
  service: string;
  /** logged requests compared */
  requests: number;
  features: number;
  /** the first differences, at most `limit` requests' worth */
  differences: LoggedDifference[];
}

export async function loggedSkewCheck(project: Project, wh: Warehouse, log: Logger, opts: { service: string; range?: TimeRange; limit?: number }): Promise<LoggedSkewResult> {
  const d = wh.dialect;
  const events = `${LOGGED_PREFIX}${opts.service}`;
  const logged = await loggedEvents(wh, project, events, opts.range ?? {}, true);
  const scratch = d.tableIn(project.target, `fsql_skew_${randomBytes(4).toString('hex')}`);
  try {
    const { rows: requests } = await train(project, wh, log, { service: opts.service, events, out: `table:${scratch.schema ? `${scratch.schema}.` : ''}${scratch.name}`, range: opts.range });
    const features = logged.features.map((f) => f.name);
    const types = new Map(logged.features.map((f) => [f.name, f.type]));
    const rows = await wh.query(renderLoggedSkew(d, logged.query, scratch, features, opts.limit ?? 100), { label: 'skew-check --logged' });
    const differences: LoggedDifference[] = [];
    for (const r of rows) {
      for (const f of features) {
        const [served, training] = [r[`served__${f}`], r[`training__${f}`]];
        if (!sameValue(served, training, types.get(f)!)) differences.push({ requestId: String(r[REQUEST_ID]), requestRow: BigInt(r[REQUEST_ROW] as bigint), feature: f, served, training });
      }
    }
    return { service: opts.service, requests, features: features.length, differences };
  } finally {
    await wh.execute(d.dropTable(d.relation(scratch))).catch((e: Error) => log.warn(`could not drop the scratch table ${d.relation(scratch)}: ${e.message}`));
  }
}
