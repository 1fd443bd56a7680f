/**
 * `fsql logs load` (SPEC section 12): moves feature log segments (feature-log/segment.ts) into
 * `fsql_logged_<service>`. Batches of entries go through a csv file, a typed parquet file (local
 * DuckDB) and the target's loadFile into a staging table; then one transaction inserts the rows and
 * records in the ledger how far each segment is loaded (dialects/logged.ts). A load killed at any
 * point and run again starts from the ledger, so every complete line is loaded exactly once.
 * Segments still being written are loaded up to their last complete line and continued next time.
 */
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderCsvToParquet } from '../dialects/staging.js';
import { LEDGER_TABLE, renderCreateLedger, renderCreateLogged, renderLedgerOffsets, renderLoadBatch, type LedgerRow } from '../dialects/logged.js';
import { FsqlError, ProjectError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Project } from '../project/types.js';
import { featureValue } from '../serving/request.js';
import { Timestamp, type Column } from '../values.js';
import { withLocalDuckDb } from '../warehouse/local-duckdb.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { checkHeader, entryCells, loggedColumns, loggedTableName, SEGMENT_EXTENSION, type LogEntry, type SegmentHeader } from '../feature-log/segment.js';
import { csvField } from './stream-to-file.js';

export const DEFAULT_BATCH_ENTRIES = 200_000;
const READ_BYTES = 8 * 1024 * 1024;

export interface LoadOptions {
  /** only this service (else every service with a folder in the log directory) */
  service?: string;
  batchEntries?: number;
  /** the time recorded in the ledger; default now */
  clock?: () => Timestamp;
}

export interface LoadResult {
  service: string;
  entries: number;
  segments: number;
  seconds: number;
}

/** The services to load: `--service`, or every project service with a folder under `dir`. */
export function servicesToLoad(project: Project, dir: string, service?: string): string[] {
  if (service !== undefined) {
    if (!project.services.has(service)) throw new ProjectError('--service', `no feature service '${service}'; services: ${[...project.services.keys()].join(', ') || '(none)'}.`);
    return [service];
  }
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((name) => project.services.has(name) && statSync(join(dir, name)).isDirectory()).sort();
}

export async function loadLogs(project: Project, wh: Warehouse, dir: string, log: Logger, opts: LoadOptions = {}): Promise<LoadResult[]> {
  const services = servicesToLoad(project, dir, opts.service);
  const clock = opts.clock ?? (() => Timestamp.fromMillis(Date.now()));
  const d = wh.dialect;
  const ledger = d.tableIn(project.target, LEDGER_TABLE);
  if (services.length > 0) await wh.execute(renderCreateLedger(d, ledger, clock()), { label: LEDGER_TABLE });
  const results: LoadResult[] = [];
  for (const [i, service] of services.entries()) {
    log.step(`${i + 1} of ${services.length} START ${service}`);
    results.push(await loadService(project, wh, join(dir, service), service, log, { ...opts, clock }));
  }
  log.endProgress();
  return results;
}

/** The batch being gathered: csv lines of one segment shape, and how far each segment got. */
interface Batch {
  columns: Column[];
  signature: string;
  csv: string[];
  pieces: LedgerRow[];
}

async function loadService(project: Project, wh: Warehouse, dir: string, service: string, log: Logger, opts: LoadOptions & { clock: () => Timestamp }): Promise<LoadResult> {
  const t0 = Date.now();
  const d = wh.dialect;
  const ledger = d.tableIn(project.target, LEDGER_TABLE);
  const table = d.tableIn(project.target, loggedTableName(service));
  const staging = d.tableIn(project.target, `${loggedTableName(service)}__staging`);
  const loaded = new Map<string, number>();
  for (const r of await wh.query(renderLedgerOffsets(d, ledger, service), { label: LEDGER_TABLE })) loaded.set(String(r.segment), Number(r.end_offset));
  const batchEntries = opts.batchEntries ?? DEFAULT_BATCH_ENTRIES;
  const tmp = mkdtempSync(join(tmpdir(), 'fsql-logs-'));
  let entries = 0;
  let segments = 0;
  let tableColumns: Set<string> | undefined;
  let batch: Batch | undefined;

  const flush = async () => {
    if (!batch || batch.pieces.length === 0) return;
    const { columns, csv, pieces } = batch;
    batch = { ...batch, csv: [], pieces: [] };
    const csvPath = join(tmp, 'entries.csv');
    const parquet = join(tmp, 'entries.parquet');
    writeFileSync(csvPath, `${columns.map((c) => csvField(c.name)).join(',')}\n${csv.join('')}`);
    await withLocalDuckDb((local) => local.execute(renderCsvToParquet(csvPath, columns, parquet)));
    await wh.loadFile(parquet, staging);
    if (!tableColumns) {
      await wh.execute(renderCreateLogged(d, table, staging), { label: table.name });
      tableColumns = new Set(((await wh.describe(table)) ?? []).map((c) => c.name.toLowerCase()));
    }
    const absent = columns.filter((c) => !tableColumns!.has(c.name.toLowerCase())).map((c) => c.name);
    if (absent.length > 0) {
      throw new FsqlError(`${d.relation(table)} lacks column${absent.length > 1 ? 's' : ''} ${absent.join(', ')}: feature service '${service}' changed since the table was created. Add the column${absent.length > 1 ? 's' : ''} to the table (or rename the table to start a new one), then run fsql logs load again.`);
    }
    await wh.execute(renderLoadBatch(d, table, staging, columns.map((c) => c.name), ledger, pieces, opts.clock()), { atomic: true, label: table.name });
    await wh.execute(d.dropTable(d.relation(staging)), { label: staging.name });
    entries += csv.length;
    const seconds = (Date.now() - t0) / 1000;
    log.progress(`${service}: ${entries} entries loaded, ${Math.round(entries / Math.max(seconds, 0.001))}/s, ${seconds.toFixed(1)}s`);
  };

  try {
    const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(SEGMENT_EXTENSION)).sort() : [];
    for (const f of files) {
      const path = join(dir, f);
      const fd = openSync(path, 'r');
      try {
        const size = statSync(path).size;
        const first = readHeader(fd, path);
        if (!first) continue; // the header itself was cut by a crash: the segment holds nothing
        const { header, end } = first;
        if (header.service !== service) throw new FsqlError(`${path}: a segment of service '${header.service}' in the folder of service '${service}'; move it to ${header.service}/.`);
        const start = loaded.get(header.segment) ?? end;
        if (start >= size) continue;
        const columns = loggedColumns(header);
        const signature = JSON.stringify(columns);
        if (batch && batch.signature !== signature) await flush();
        if (!batch || batch.signature !== signature) batch = { columns, signature, csv: [], pieces: [] };
        let piece: LedgerRow | undefined;
        let fileEntries = 0;
        for (const { line, endOffset } of completeLines(fd, start, size)) {
          batch.csv.push(csvLine(line, columns, path, endOffset));
          fileEntries++;
          if (!piece) {
            piece = { service, segment: header.segment, endOffset, entries: 0 };
            batch.pieces.push(piece);
          }
          piece.endOffset = endOffset;
          piece.entries++;
          if (batch.csv.length >= batchEntries) {
            await flush();
            piece = undefined;
          }
        }
        if (fileEntries > 0) segments++;
      } finally {
        closeSync(fd);
      }
    }
    await flush();
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return { service, entries, segments, seconds: (Date.now() - t0) / 1000 };
}

/** The header line and the offset after it; undefined when the file has no complete first line. */
function readHeader(fd: number, path: string): { header: SegmentHeader; end: number } | undefined {
  for (const { line, endOffset } of completeLines(fd, 0, Infinity)) {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new FsqlError(`${path}:1: the header is not JSON; this is not an fsql feature log segment.`);
    }
    return { header: checkHeader(value, path), end: endOffset };
  }
  return undefined;
}

/** The complete (newline-ended) lines from byte `start` up to `size`, each with the offset after its newline. */
function* completeLines(fd: number, start: number, size: number): Generator<{ line: string; endOffset: number }> {
  const buf = Buffer.allocUnsafe(READ_BYTES);
  let pos = start;
  // the start of a line that continues in the next chunk, kept as bytes (a character may be split)
  let carry: Buffer | undefined;
  while (pos < size) {
    const n = readSync(fd, buf, 0, Math.min(READ_BYTES, size - pos), pos);
    if (n <= 0) return;
    let from = 0;
    for (let nl = buf.indexOf(10, 0); nl >= 0 && nl < n; nl = buf.indexOf(10, from)) {
      const line = carry ? Buffer.concat([carry, buf.subarray(from, nl)]).toString('utf8') : buf.toString('utf8', from, nl);
      carry = undefined;
      from = nl + 1;
      yield { line, endOffset: pos + from };
    }
    if (from < n) carry = carry ? Buffer.concat([carry, buf.subarray(from, n)]) : Buffer.from(buf.subarray(from, n));
    pos += n;
  }
}

/** One entry as a csv row of `columns`, each value checked against its type. */
function csvLine(line: string, columns: Column[], path: string, endOffset: number): string {
  let cells: unknown[];
  try {
    cells = entryCells(JSON.parse(line) as LogEntry);
  } catch (e) {
    throw new FsqlError(`${path} (the line ending at byte ${endOffset}): not a feature log entry (${(e as Error).message}). A segment is only appended to by fsql serve; restore the file or move it out of the log directory.`);
  }
  if (cells.length !== columns.length) throw new FsqlError(`${path} (the line ending at byte ${endOffset}): ${cells.length} values for ${columns.length} columns; the entry does not match its segment's header.`);
  let out = '';
  for (let i = 0; i < columns.length; i++) {
    const c = columns[i];
    let v;
    try {
      const cell = cells[i] ?? null;
      v = cell instanceof Timestamp ? cell : featureValue(cell, c.type, `column '${c.name}'`);
    } catch (e) {
      throw new FsqlError(`${path} (the line ending at byte ${endOffset}): ${(e as Error).message}`);
    }
    out += (i ? ',' : '') + csvField(v);
  }
  return out + '\n';
}
