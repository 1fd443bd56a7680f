/**
 * SQL of `fsql logs load` (SPEC section 12): the ledger `fsql_logged_segments` (per service and
 * segment, the byte offset loaded up to), and a batch's move from its staging table into
 * `fsql_logged_<service>` together with its ledger rows, in one transaction, so each entry is
 * loaded exactly once however often a killed load is re-run.
 */
import type { RelationName } from '../plans/relation.js';
import type { Timestamp } from '../values.js';
import type { Dialect } from './dialect.js';

export const LEDGER_TABLE = 'fsql_logged_segments';

/** What one batch loaded of one segment: its entries up to byte `endOffset`. */
export interface LedgerRow {
  service: string;
  segment: string;
  endOffset: number;
  entries: number;
}

function ledgerSelect(d: Dialect, r: LedgerRow, at: Timestamp): string {
  const q = (n: string) => d.quoteIdent(n);
  return `select ${d.castTo(d.stringLiteral(r.service), 'string')} as ${q('service')}, ${d.castTo(d.stringLiteral(r.segment), 'string')} as ${q('segment')}, `
    + `${d.castTo(String(r.endOffset), 'int64')} as ${q('end_offset')}, ${d.castTo(String(r.entries), 'int64')} as ${q('entries')}, `
    + `${d.castTo(d.timestampLiteral(at), 'timestamp')} as ${q('loaded_at')}`;
}

/** The ledger, created (typed by its SELECT) when missing. */
export function renderCreateLedger(d: Dialect, ledger: RelationName, at: Timestamp): string {
  return `create table if not exists ${d.relation(ledger)} as\n${ledgerSelect(d, { service: '', segment: '', endOffset: 0, entries: 0 }, at)} where 1 = 0`;
}

/** Per segment of `service`, the offset loaded up to (columns segment, end_offset). */
export function renderLedgerOffsets(d: Dialect, ledger: RelationName, service: string): string {
  const q = (n: string) => d.quoteIdent(n);
  return `select ${q('segment')}, max(${q('end_offset')}) as ${q('end_offset')} from ${d.relation(ledger)} where ${q('service')} = ${d.stringLiteral(service)} group by ${q('segment')}`;
}

/** The logged table, created with the staging table's columns when missing. */
export function renderCreateLogged(d: Dialect, table: RelationName, staging: RelationName): string {
  return `create table if not exists ${d.relation(table)} as\nselect * from ${d.relation(staging)} where 1 = 0`;
}

/** One batch: its rows into the logged table, its segments' new offsets into the ledger. Run atomically. */
export function renderLoadBatch(d: Dialect, table: RelationName, staging: RelationName, columns: string[], ledger: RelationName, rows: LedgerRow[], at: Timestamp): string[] {
  const cols = columns.map((c) => d.quoteIdent(c)).join(', ');
  return [
    `insert into ${d.relation(table)} (${cols})\nselect ${cols} from ${d.relation(staging)}`,
    `insert into ${d.relation(ledger)}\n${rows.map((r) => ledgerSelect(d, r, at)).join('\nunion all\n')}`,
  ];
}
