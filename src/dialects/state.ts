/** SQL for the table `fsql_state` (applied_at, state JSON text): created on first use, one row per apply, the newest read back. */
import type { RelationName } from '../plans/relation.js';
import type { Timestamp } from '../values.js';
import type { Dialect } from './dialect.js';

/** Statements that record `json` as the state applied at `at` (the table is created, typed by its first SELECT, when missing). */
export function renderRecordState(d: Dialect, table: RelationName, at: Timestamp, json: string): string[] {
  const row = `select ${d.castTo(d.timestampLiteral(at), 'timestamp')} as ${d.quoteIdent('applied_at')}, ${d.castTo(d.stringLiteral(json), 'string')} as ${d.quoteIdent('state')}`;
  const rel = d.relation(table);
  return [`create table if not exists ${rel} as\n${row} where 1 = 0`, `insert into ${rel}\n${row}`];
}

export function renderLatestState(d: Dialect, table: RelationName): string {
  return `select ${d.quoteIdent('state')} from ${d.relation(table)} order by ${d.quoteIdent('applied_at')} desc limit 1`;
}
