/**
 * `fsql logs load` (SPEC section 12): moves feature log segments (feature-log/segment.ts) into
 * `fsql_logged_<service>`. Batches of entry lines are copied as they are into one NDJSON file,
 * which a local DuckDB parses and types into parquet (dialects/logged.ts renderLogToParquet), and
 * the target's loadFile puts into a staging table; then one transaction inserts the rows and
 * records in the ledger how far each segment is loaded (dialects/logged.ts). A load killed at any
 * point and run again starts from the ledger, so every complete line is loaded exactly once.
 * Segments still being written are loaded up to their last complete line and continued next time.
 */
import { closeSync, existsSync, fstatSync, mkdtempSync, openSync, readdirSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { batchSource, LEDGER_TABLE, renderCreateLedger, renderCreateLogged, renderLedgerOffsets, renderLoadBatch, renderLogToParquet, renderMergePushed, type LedgerRow } from '../dialects/logged.js';
import type { Dialect } from '../dialects/dialect.js';
import type { Compilation } from '../compiler/compile.js';
import { renderMergePushedEvents, renderPushedEventsStart } from '../dialects/aggregate-tiles.js';
import { inputColumns } from '../plans/aggregate.js';
import { aggregatePlan, builtKind, findBuilt } from './run-aggregate.js';
import type { RelationName } from '../plans/relation.js';
import { FsqlError, ProjectError } from '../errors.js';
import type { Logger } from '../log.js';
import { rowKey, type Project, type ViewDef } from '../project/types.js';
import { Timestamp, type Column } from '../values.js';
import { withLocalDuckDb } from '../warehouse/local-duckdb.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { checkHeader, loggedColumns, loggedTableName, PUSH_ID, PUSH_ROW, PUSHED_FOLDER, pushedColumns, pushedTableName, ROWS_PREFIX, SEGMENT_EXTENSION, type SegmentHeader } from '../feature-log/segment.js';

export const DEFAULT_BATCH_ENTRIES = 200_000;
const READ_BYTES = 8 * 1024 * 1024;
const HEADER_BYTES = 1024 * 1024;

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
function servicesToLoad(project: Project, dir: string, service?: string): string[] {
  if (service !== undefined) {
    if (!project.services.has(service)) throw new ProjectError('--service', `no feature service '${service}'; services: ${[...project.services.keys()].join(', ') || '(none)'}.`);
    return [service];
  }
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((name) => project.services.has(name) && statSync(join(dir, name)).isDirectory()).sort();
}

export async function loadLogs(project: Project, wh: Warehouse, dir: string, log: Logger, opts: LoadOptions = {}): Promise<LoadResult[]> {
  const d = wh.dialect;
  const logs = servicesToLoad(project, dir, opts.service).map((service) => serviceLog(project, d, dir, service));
  // without --service, also /push's offline rows
  if (opts.service === undefined) {
    for (const view of project.views.values()) {
      if (!view.push) continue;
      const folder = pushedLog(project, d, dir, view);
      if (existsSync(folder.dir)) logs.push(folder);
    }
  }
  const clock = opts.clock ?? (() => Timestamp.fromMillis(Date.now()));
  if (logs.length > 0) await createLedger(wh, project, clock);
  const results: LoadResult[] = [];
  for (const [i, l] of logs.entries()) {
    log.step(`${i + 1} of ${logs.length} START ${l.key}`);
    results.push(await loadSegments(project, wh, l, log, { ...opts, clock }));
  }
  log.endProgress();
  return results;
}

async function createLedger(wh: Warehouse, project: Project, clock: () => Timestamp): Promise<void> {
  await wh.execute(renderCreateLedger(wh.dialect, wh.dialect.tableIn(project.target, LEDGER_TABLE), clock()), { label: LEDGER_TABLE });
}

/** One log folder and the table it loads into. */
interface LogFolder {
  dir: string;
  /** what each segment's header names (service or view), and the ledger's key for the folder */
  key: string;
  table: RelationName;
  staging: RelationName;
  columnsOf(h: SegmentHeader): Column[];
}

function serviceLog(project: Project, d: Dialect, dir: string, service: string): LogFolder {
  const name = loggedTableName(service);
  return { dir: join(dir, service), key: service, table: d.tableIn(project.target, name), staging: d.tableIn(project.target, `${name}__staging`), columnsOf: loggedColumns };
}

function pushedLog(project: Project, d: Dialect, dir: string, view: ViewDef): LogFolder {
  const name = pushedTableName(view.name);
  return { dir: join(dir, PUSHED_FOLDER, view.name), key: view.name, table: d.tableIn(project.target, name), staging: d.tableIn(project.target, `${name}__staging`), columnsOf: (h) => pushedColumns(h, view.config.timestamp) };
}

/**
 * `fsql run`, after a view with `push: true` builds: its push log loaded into `<view>__pushed`
 * (exactly once, as logs load does), then merged into its offline table.
 */
async function mergePushed(project: Project, wh: Warehouse, folder: LogFolder, view: ViewDef, table: RelationName, log: Logger): Promise<void> {
  const columns = await loadPushed(project, wh, folder, log);
  if (!columns) return; // nothing was ever pushed offline
  const keys = rowKey(view);
  const names = columns.map((c) => c.name).filter((c) => c !== PUSH_ID && c !== PUSH_ROW);
  await wh.execute(renderMergePushed(wh.dialect, table, folder.table, keys, names), { label: view.name });
}

/** A view's push log (`folder`, pushedLog) loaded into `<view>__pushed` (exactly once, as logs load does); that table's columns, or undefined when nothing was ever pushed offline. */
async function loadPushed(project: Project, wh: Warehouse, folder: LogFolder, log: Logger): Promise<Column[] | undefined> {
  const clock = () => Timestamp.fromMillis(Date.now());
  if (existsSync(folder.dir)) {
    await createLedger(wh, project, clock);
    await loadSegments(project, wh, folder, log, { clock });
  }
  return wh.describe(folder.table);
}

/**
 * An aggregate view's pushed raw events (SPEC section 12): those its events table lacks go in,
 * and its tiles are rebuilt from the earliest of them, in one transaction, so training counts
 * them as the server did. A run that rebuilt the events from the source puts them back.
 */
async function mergePushedEvents(project: Project, wh: Warehouse, folder: LogFolder, c: Compilation, view: ViewDef, log: Logger): Promise<void> {
  if (!(await loadPushed(project, wh, folder, log))) return;
  const d = wh.dialect;
  // the per-tile relations as the build just made them (per-row views need no rebuilding)
  const full = aggregatePlan(c, view, undefined);
  const perRow = builtKind(full, await findBuilt(wh, full.tables));
  if (perRow === undefined) throw new FsqlError(`${view.file}: the aggregate view's tables are not as its build left them; run fsql run --full-refresh --select ${view.name}.`);
  const plan = { ...full, perRow };
  const pushed = folder.table;
  const inputs = inputColumns(plan.spec);
  const [row] = await wh.query(renderPushedEventsStart(plan, d, pushed, inputs), { label: view.name });
  const first = Object.values(row ?? {})[0];
  if (!(first instanceof Timestamp)) return;
  await wh.execute(renderMergePushedEvents(plan, d, pushed, inputs, first), { atomic: true, label: view.name });
}

/** The batch being gathered: entry lines of one segment header, copied to `file`, and how far each segment got. */
interface Batch {
  header: SegmentHeader;
  signature: string;
  /** the NDJSON file the lines are copied to */
  fd: number;
  entries: number;
  pieces: LedgerRow[];
}

async function loadSegments(project: Project, wh: Warehouse, folder: LogFolder, log: Logger, opts: LoadOptions & { clock: () => Timestamp }): Promise<LoadResult> {
  const t0 = Date.now();
  const d = wh.dialect;
  const ledger = d.tableIn(project.target, LEDGER_TABLE);
  const { dir, table, staging, key: service } = folder;
  const loaded = new Map<string, number>();
  for (const r of await wh.query(renderLedgerOffsets(d, ledger, service), { label: LEDGER_TABLE })) loaded.set(String(r.segment), Number(r.end_offset));
  const batchEntries = opts.batchEntries ?? DEFAULT_BATCH_ENTRIES;
  // one read buffer for every segment of the load (headers and lines)
  const buf = Buffer.allocUnsafe(READ_BYTES);
  const tmp = mkdtempSync(join(tmpdir(), 'fsql-logs-'));
  const ndjson = join(tmp, 'entries.ndjson');
  let entries = 0;
  const segments = new Set<string>();
  let tableColumns: Set<string> | undefined;
  let batch: Batch | undefined;

  const flush = async () => {
    if (!batch) return;
    const { header, pieces, fd } = batch;
    batch = undefined;
    closeSync(fd);
    if (pieces.length === 0) return;
    const columns = folder.columnsOf(header);
    // a DuckDB target reads the file itself, in the transaction; others get a typed parquet file in a staging table
    const direct = d.readsFiles ? { ndjson, header, columns } : undefined;
    const source = batchSource(d, staging, direct);
    if (!direct) {
      const parquet = join(tmp, 'entries.parquet');
      await mismatchNamed(pieces, dir, () => withLocalDuckDb((local) => local.execute(renderLogToParquet(ndjson, header, parquet, columns))));
      await wh.loadFile(parquet, staging);
    }
    if (!tableColumns) {
      await wh.execute(renderCreateLogged(d, table, source), { label: table.name });
      tableColumns = new Set(((await wh.describe(table)) ?? []).map((c) => c.name.toLowerCase()));
    }
    const absent = columns.filter((c) => !tableColumns!.has(c.name.toLowerCase())).map((c) => c.name);
    if (absent.length > 0) {
      throw new FsqlError(`${d.relation(table)} lacks column${absent.length > 1 ? 's' : ''} ${absent.join(', ')}: '${service}' changed since the table was created. Add the column${absent.length > 1 ? 's' : ''} to the table (or rename the table to start a new one), then run fsql logs load again.`);
    }
    await mismatchNamed(pieces, dir, () => wh.execute(renderLoadBatch(d, table, source, columns.map((c) => c.name), ledger, pieces, opts.clock()), { atomic: true, label: table.name }));
    if (!direct) await wh.execute(d.dropTable(d.relation(staging)), { label: staging.name });
    entries += pieces.reduce((n, p) => n + p.entries, 0);
    const seconds = (Date.now() - t0) / 1000;
    log.progress(`${service}: ${entries} entries loaded, ${Math.round(entries / Math.max(seconds, 0.001))}/s, ${seconds.toFixed(1)}s`);
  };

  try {
    const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(SEGMENT_EXTENSION)).sort() : [];
    for (const f of files) {
      const path = join(dir, f);
      const fd = openSync(path, 'r');
      try {
        const size = fstatSync(fd).size;
        const first = readHeader(fd, path, buf);
        if (!first) continue; // the header itself was cut by a crash: the segment holds nothing
        const { header, end } = first;
        if (header.service !== service) throw new FsqlError(`${path}: a segment of '${header.service}' in the folder of '${service}'; move it to the folder of '${header.service}'.`);
        let start = loaded.get(header.segment) ?? end;
        const signature = JSON.stringify(folder.columnsOf(header));
        while (start < size) {
          if (batch && batch.signature !== signature) await flush();
          batch ??= { header, signature, fd: openSync(ndjson, 'w'), entries: 0, pieces: [] };
          const { end: upTo, lines, entries: rows } = copyLines(fd, start, size, batch.fd, batchEntries - batch.entries, path, buf);
          if (lines === 0) break; // only a torn last line is left
          batch.pieces.push({ service, segment: header.segment, endOffset: upTo, entries: rows });
          batch.entries += rows;
          segments.add(header.segment);
          start = upTo;
          if (batch.entries >= batchEntries) await flush();
        }
      } finally {
        closeSync(fd);
      }
    }
    await flush();
  } finally {
    if (batch) closeSync(batch.fd);
    rmSync(tmp, { recursive: true, force: true });
  }
  return { service, entries, segments: segments.size, seconds: (Date.now() - t0) / 1000 };
}

/** Runs `fn`; a failure names the segments of the batch (a line that is not an entry, a value of another type). */
async function mismatchNamed<T>(pieces: LedgerRow[], dir: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const files = [...new Set(pieces.map((p) => p.segment))].map((id) => join(dir, `${id}${SEGMENT_EXTENSION}`)).join(', ');
    throw new FsqlError(`loading ${files} failed: ${(e as Error).message}. If it names a value or a JSON error, a line does not match its segment's header: segments are only appended to by fsql serve; restore the file or move it out of the log directory.`);
  }
}

/** The header line and the offset after it (read into `buf`); undefined when the file has no complete first line. */
function readHeader(fd: number, path: string, buf: Buffer): { header: SegmentHeader; end: number } | undefined {
  const n = readSync(fd, buf, 0, HEADER_BYTES, 0);
  const nl = buf.subarray(0, n).indexOf(10);
  if (nl < 0) {
    if (n === HEADER_BYTES) throw new FsqlError(`${path}: no header line in its first ${HEADER_BYTES} bytes; this is not an fsql feature log segment.`);
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(buf.toString('utf8', 0, nl));
  } catch {
    throw new FsqlError(`${path}:1: the header is not JSON; this is not an fsql feature log segment.`);
  }
  return { header: checkHeader(value, path), end: nl + 1 };
}

/**
 * Copies whole lines, up to about `max` entries, from byte `start` of a segment to `out`; returns
 * the offset after the last line copied, how many lines and how many entries (rows: LogEntry `n`)
 * they held, reading through `buf` (READ_BYTES). Bytes after the last newline (a line being written,
 * or torn by a crash) stay behind.
 */
function copyLines(fd: number, start: number, size: number, out: number, max: number, path: string, buf: Buffer): { end: number; lines: number; entries: number } {
  let pos = start;
  let lines = 0;
  let entries = 0;
  while (pos < size && entries < max) {
    const n = readSync(fd, buf, 0, Math.min(READ_BYTES, size - pos), pos);
    if (n <= 0) break;
    let cut = -1;
    for (let nl = buf.indexOf(10); nl >= 0 && nl < n; nl = buf.indexOf(10, nl + 1)) {
      entries += rowsOf(buf, cut + 1);
      lines++;
      cut = nl;
      if (entries >= max) break;
    }
    if (cut < 0) {
      if (n === READ_BYTES) throw new FsqlError(`${path}: a line at byte ${pos} is longer than ${READ_BYTES} bytes; this is not an fsql feature log entry.`);
      break;
    }
    writeSync(out, buf, 0, cut + 1);
    pos += cut + 1;
  }
  return { end: pos, lines, entries };
}

const ROWS_PREFIX_BYTES = Buffer.from(ROWS_PREFIX);

/** The rows of the line starting at `at`: its leading `"n"`, 1 for a line without one (LogEntry). */
function rowsOf(buf: Buffer, at: number): number {
  if (buf.compare(ROWS_PREFIX_BYTES, 0, ROWS_PREFIX_BYTES.length, at, at + ROWS_PREFIX_BYTES.length) !== 0) return 1;
  let rows = 0;
  for (let i = at + ROWS_PREFIX_BYTES.length; buf[i] >= 48 && buf[i] <= 57; i++) rows = rows * 10 + buf[i] - 48;
  return rows;
}

/** `fsql run`'s afterBuild: a view with `push: true` gets its pushed rows merged once it is built; a failure fails the view. */
export function mergePushedAfterBuild(project: Project, wh: Warehouse, log: Logger, dir: string): (name: string, c: Compilation) => Promise<string | undefined> {
  return async (name, c) => {
    const view = project.views.get(name)!;
    if (!view.push) return undefined;
    const folder = pushedLog(project, wh.dialect, dir, view);
    try {
      if (view.config.aggregate) await mergePushedEvents(project, wh, folder, c, view, log);
      else await mergePushed(project, wh, folder, view, c.manifest.views[name].table, log);
      return undefined;
    } catch (e) {
      return `merging its pushed rows (${folder.dir}) failed: ${(e as Error).message}`;
    }
  };
}
