/**
 * Feature logging (SPEC section 12): what the server answered, for the services with
 * `logging: {sample_rate}`. The request path only draws the sample and queues references to what it
 * already holds (keys, request fields, the rows read); once the turn's answers are written
 * (ResponseBatch's after-hook) they become NDJSON lines in buffers outside the heap
 * (feature-log/line-buffer.ts), and a timer appends those to
 * segment files (feature-log/segment-writer.ts) at least once per `flushMs`. The
 * queue is bounded: a vector that finds it full is dropped and counted in /metrics. close() writes
 * everything queued, so a clean stop loses nothing; a kill loses at most the last interval.
 */
import { join } from 'node:path';
import type { Logger } from '../log.js';
import type { ServedRow, ServicePlan } from '../online/vector.js';
import { bigintText, valueJson } from './encode.js';
import { vectorOf } from './tecton.js';
import type { Project } from '../project/types.js';
import type { Timestamp, Value } from '../values.js';
import { processUniqueId, SegmentWriter } from '../feature-log/segment-writer.js';
import { LINE_CHARS, LineBuffer } from '../feature-log/line-buffer.js';
import { ROWS_PREFIX, segmentHeader, type SegmentHeader } from '../feature-log/segment.js';
import type { Metrics } from './metrics.js';
import { seriesKey } from '../prometheus-text.js';

const DEFAULT_FLUSH_MS = 500;
const DEFAULT_QUEUE_ENTRIES = 100_000;

/** How the log schedules its flushes; tests pass one they trigger themselves. */
export interface FlushTimer {
  start(flush: () => void, ms: number): void;
  stop(): void;
}

function intervalTimer(): FlushTimer {
  let handle: NodeJS.Timeout | undefined;
  return {
    start(flush, ms) {
      handle = setInterval(flush, ms);
      handle.unref();
    },
    stop() {
      clearInterval(handle);
    },
  };
}

export interface FeatureLogOptions {
  /** the log directory; each service writes in `<dir>/<service>/` */
  dir: string;
  project: Project;
  metrics: Metrics;
  log: Logger;
  flushMs?: number;
  /** vectors the queue holds at most */
  maxQueue?: number;
  /** the sampling draw, uniform in [0, 1); default Math.random */
  random?: () => number;
  timer?: FlushTimer;
  segmentBytes?: number;
  /**
   * a line's length at most, in characters (default LINE_CHARS: a line that always fits the line
   * buffer's reused buffers, far below the 8 MiB `logs load` reads a line in); a longer request's
   * rows are split over several lines, a row never
   */
  lineChars?: number;
}

/** A sampled request as the handler left it: references only, encoded once the turn's answers are written. */
interface Pending {
  log: ServiceLog;
  plan: ServicePlan;
  id: string;
  now: Timestamp;
  keys: readonly Value[][];
  requests: readonly Value[][];
  served: readonly ServedRow[][];
  /** per vector, its features' JSON texts joined by commas, when the handler already wrote them (Tecton) */
  features?: readonly string[];
}

/** Encoded lines waiting for the writer, all of one header. */
interface Chunk {
  header: Omit<SegmentHeader, 'segment'>;
  lines: LineBuffer;
  count: number;
}

interface ServiceLog {
  name: string;
  rate: number;
  writer: SegmentWriter;
  /** the header of the plan last encoded, rebuilt when the catalogue reloads with a new plan */
  plan?: ServicePlan;
  header?: Omit<SegmentHeader, 'segment'>;
  chunks: Chunk[];
  dropped: string;
  written: string;
  failed: string;
}

export class FeatureLog {
  private readonly services = new Map<string, ServiceLog>();
  /** sampled requests not yet encoded (until the turn's answers are written) */
  private pending: Pending[] = [];
  /** vectors sampled and not yet written: pending and in chunks */
  private queued = 0;
  private flushing: Promise<void> = Promise.resolve();
  private readonly timer: FlushTimer;
  private readonly random: () => number;
  private readonly maxQueue: number;
  private readonly lineChars: number;
  private closed = false;

  constructor(private readonly opts: FeatureLogOptions) {
    for (const s of opts.project.services.values()) {
      if (!s.logging || s.logging.sampleRate <= 0) continue;
      const labels = (outcome: string) => seriesKey('fsql_feature_log_entries_total', { service: s.name, outcome });
      this.services.set(s.name, {
        name: s.name,
        rate: s.logging.sampleRate,
        writer: new SegmentWriter(join(opts.dir, s.name), opts.segmentBytes),
        chunks: [],
        dropped: labels('queue_full'),
        written: labels('written'),
        failed: labels('write_failed'),
      });
    }
    this.random = opts.random ?? Math.random;
    this.maxQueue = opts.maxQueue ?? DEFAULT_QUEUE_ENTRIES;
    this.lineChars = opts.lineChars ?? LINE_CHARS;
    this.timer = opts.timer ?? intervalTimer();
    if (this.services.size > 0) this.timer.start(() => void this.flush(), opts.flushMs ?? DEFAULT_FLUSH_MS);
  }

  /** True when some service logs. */
  get active(): boolean {
    return this.services.size > 0;
  }

  /**
   * On the request path: samples the request and queues what was served (one vector per row of
   * keys). `features`: per vector, the answer's text of its features (joined by commas) where it holds them.
   */
  record(plan: ServicePlan, now: Timestamp, keys: readonly Value[][], requests: readonly Value[][], served: readonly ServedRow[][], features?: readonly string[]): void {
    const log = this.services.get(plan.service);
    if (!log || this.closed) return;
    if (log.rate < 1 && this.random() >= log.rate) return;
    if (this.queued + keys.length > this.maxQueue) {
      this.opts.metrics.incKey(log.dropped, keys.length);
      return;
    }
    this.pending.push({ log, plan, id: processUniqueId(), now, keys, requests, served, features });
    this.queued += keys.length;
  }

  /** Writes everything queued so far; flushes run one after another. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.writeQueued());
    return this.flushing;
  }

  /** Stops the timer, writes everything queued, closes the segments. Later records are ignored. */
  async close(): Promise<void> {
    this.closed = true;
    this.timer.stop();
    await this.flush();
    for (const s of this.services.values()) await s.writer.close();
  }

  /**
   * Turns the pending requests into lines in their service's chunks. The server calls it once each
   * turn's answers are written, not at the flush: what a request read then dies young instead of
   * being kept (and copied by the garbage collector) for up to a flush interval. A request that
   * cannot be encoded is counted as failed and logged; the others are encoded still.
   */
  encodeQueued(): void {
    const batch = this.pending;
    this.pending = [];
    for (const p of batch) {
      const s = p.log;
      try {
        if (s.plan !== p.plan) {
          s.plan = p.plan;
          s.header = segmentHeader(p.plan.service, p.plan.joinKeys, p.plan.requestFields, p.plan.features, p.plan.views.map((v) => v.layout.view));
        }
        const features = p.features ?? p.served.map((served, r) => vectorOf(p.plan, served as ServedRow[], false, p.requests[r] ?? []).features.join(','));
        let chunk = s.chunks[s.chunks.length - 1];
        if (!chunk || chunk.header !== s.header) s.chunks.push((chunk = { header: s.header!, lines: new LineBuffer(), count: 0 }));
        pushLines(chunk.lines, p, features, 0, p.keys.length, this.lineChars);
        chunk.count += p.keys.length;
      } catch (e) {
        this.queued -= p.keys.length;
        this.opts.metrics.incKey(s.failed, p.keys.length);
        this.opts.log.error(`feature log of service '${s.name}': ${p.keys.length} entries could not be encoded: ${(e as Error).message}`);
      }
    }
  }

  private async writeQueued(): Promise<void> {
    this.encodeQueued();
    for (const s of this.services.values()) {
      const chunks = s.chunks;
      s.chunks = [];
      for (const c of chunks) {
        await this.write(s, c);
        c.lines.release();
        this.queued -= c.count;
      }
    }
  }

  private async write(s: ServiceLog, c: Chunk): Promise<void> {
    try {
      await s.writer.append(c.header, c.lines.bytes());
      this.opts.metrics.incKey(s.written, c.count);
    } catch (e) {
      // a failed write may have left part of a line: the next append starts a new segment
      this.opts.metrics.incKey(s.failed, c.count);
      this.opts.log.error(`feature log of service '${s.name}': ${c.count} entries could not be written: ${(e as Error).message}`);
      await s.writer.close().catch(() => undefined);
    }
  }
}

/** Rows `from` to `to` of a request as one line, or split in halves until each line holds at most `most` characters or one row. */
function pushLines(lines: LineBuffer, p: Pending, features: readonly string[], from: number, to: number, most: number): void {
  const line = encodeLine(p, features, from, to);
  if (line.length <= most || to - from === 1) return lines.push(line);
  const mid = (from + to) >>> 1;
  pushLines(lines, p, features, from, mid, most);
  pushLines(lines, p, features, mid, to, most);
}

/**
 * A line of a request's rows `from` to `to` (a LogEntry), written as text: feature values
 * (`features`, per row) are the answer's own JSON text (tecton.ts vectorOf, from the stored text),
 * so logging neither decodes nor re-encodes them; effective times are epoch microseconds, not ISO
 * text. Built as one string (appended to, no array per list) and copied to the line buffer with
 * one write (CONTEXT.md).
 */
function encodeLine(p: Pending, features: readonly string[], from: number, to: number): string {
  let keys = '';
  let requests = '';
  let times = '';
  for (let r = from; r < to; r++) {
    const k = p.keys[r];
    for (let j = 0; j < k.length; j++) keys += (keys ? ',' : '') + valueJson(k[j]);
    const c = p.requests[r];
    if (c) for (let j = 0; j < c.length; j++) requests += (requests ? ',' : '') + valueJson(c[j]);
    const served = p.served[r];
    for (let j = 0; j < served.length; j++) {
      const s = served[j];
      times += (times ? ',' : '') + (s.reason === undefined ? bigintText(s.row!.ts.micros) : 'null');
    }
  }
  const row = from > 0 ? `,"row":${from}` : '';
  return `${ROWS_PREFIX}${to - from},"id":"${p.id}"${row},"t":${p.now.micros},"k":[${keys}],"c":[${requests}],"v":[${features.slice(from, to).join(',')}],"e":[${times}]}`;
}
