/**
 * `fsql train --events logged:<service>` (SPEC section 12): the requests a service logged (loaded by
 * `fsql logs load` into `fsql_logged_<service>`) as training events. The events are the request's
 * id, row, join keys and request context, at its request time; `--served` adds the values served
 * (the logged table's `<view>__<feature>` columns), the training rows of exactly what was served.
 */
import { LOGGED_EVENT_TIMESTAMP, renderLoggedEvents } from '../dialects/logged.js';
import { effectiveTimeColumn, loggedTableName, REQUEST_TIME, statusColumn } from '../feature-log/segment.js';
import { ProjectError } from '../errors.js';
import type { EventSource } from '../plans/events.js';
import type { TimeRange } from '../plans/relation.js';
import type { Project } from '../project/types.js';
import type { Column } from '../values.js';
import type { Warehouse } from '../warehouse/warehouse.js';

export const LOGGED_PREFIX = 'logged:';

export interface LoggedEvents {
  /** the events query */
  query: string;
  source: EventSource;
  /** the logged service's feature columns (`<view>__<feature>`), with their types */
  features: Column[];
  /** the event columns, event_timestamp included */
  eventColumns: Column[];
  service: string;
}

/** The service named by `logged:<service>`, checked against the project. */
function loggedService(project: Project, text: string): string {
  const service = text.slice(LOGGED_PREFIX.length);
  if (!project.services.has(service)) throw new ProjectError('--events', `'${text}' names no feature service; services: ${[...project.services.keys()].join(', ') || '(none)'}.`);
  return service;
}

/** Reads the logged table's columns and renders the events query (with the served values when `served`). */
export async function loggedEvents(wh: Warehouse, project: Project, text: string, range: TimeRange, served: boolean): Promise<LoggedEvents> {
  const service = loggedService(project, text);
  const d = wh.dialect;
  const table = d.tableIn(project.target, loggedTableName(service));
  const columns = await wh.describe(table);
  if (!columns) throw new ProjectError('--events', `${d.relation(table)} does not exist: nothing of service '${service}' is loaded yet. Log it (logging: in the service's YAML), then run fsql logs load.`);
  // fsql's own columns, the join keys and the request context: every column but `<view>__...`
  const eventColumns = columns.filter((c) => !c.name.includes('__') && c.name !== REQUEST_TIME);
  const isView = (name: string) => project.views.has(name) || project.onDemandViews.has(name);
  const features = columns.filter((c) => {
    const [view, rest] = [c.name.slice(0, c.name.indexOf('__')), c.name.slice(c.name.indexOf('__') + 2)];
    return c.name.includes('__') && isView(view) && c.name !== statusColumn(view) && c.name !== effectiveTimeColumn(view) && rest !== '';
  });
  const query = renderLoggedEvents(d, table, eventColumns.map((c) => c.name), range, served ? features.map((c) => c.name) : []);
  const timestamp = columns.find((c) => c.name === REQUEST_TIME)!;
  return {
    query,
    source: { kind: 'sql', query, display: text },
    features,
    eventColumns: [...eventColumns, { name: LOGGED_EVENT_TIMESTAMP, type: timestamp.type }],
    service,
  };
}
