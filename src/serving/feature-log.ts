/**
 * Feature logging (SPEC section 12): what the server answered, for the services with
 * `logging: {sample_rate}`. The request path only draws the sample and queues references to what it
 * already holds (keys, request fields, the rows read); right after the request they become NDJSON
 * lines in buffers outside the heap (feature-log/line-buffer.ts), and a timer appends those to
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
import { PROCESS_TAG, SegmentWriter } from '../feature-log/segment-writer.js';
import { LineBuffer } from '../feature-log/line-buffer.js';
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
  /** the feature text a line holds at most (LINE_BYTES) */
  lineBytes?: number;
}

/**
 * A request's rows are written as lines of at most this much feature text (a row's own is never
 * split): a 1,000-row batch of wide features stays far below the 8 MiB `logs load` reads a line in.
 */
const LINE_BYTES = 1 << 20;

/** A sampled request as the handler left it: references only, encoded right after the request. */
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
  /** sampled requests not yet encoded (until the next setImmediate) */
  private pending: Pending[] = [];
  /** vectors sampled and not yet written: pending and in chunks */
  private queued = 0;
  private requests = 0;
  private flushing: Promise<void> = Promise.resolve();
  private readonly timer: FlushTimer;
  private readonly random: () => number;
  private readonly maxQueue: number;
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
    this.pending.push({ log, plan, id: `${PROCESS_TAG}-${(this.requests++).toString(36)}`, now, keys, requests, served, features });
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
   * being kept (and copied by the garbage collector) for up to a flush interval.
   */
  encodeQueued(): void {
    const batch = this.pending;
    this.pending = [];
    for (const p of batch) {
      const s = p.log;
      if (s.plan !== p.plan) {
        s.plan = p.plan;
        s.header = headerOf(p.plan);
      }
      let chunk = s.chunks[s.chunks.length - 1];
      if (!chunk || chunk.header !== s.header) s.chunks.push((chunk = { header: s.header!, lines: new LineBuffer(), count: 0 }));
      const features = p.features ?? p.served.map((served, r) => vectorOf(p.plan, served as ServedRow[], false, p.requests[r] ?? []).features.join(','));
      const budget = this.opts.lineBytes ?? LINE_BYTES;
      for (let from = 0; from < p.keys.length; ) {
        let to = from + 1;
        for (let bytes = features[from].length; to < p.keys.length && bytes + features[to].length <= budget; to++) bytes += features[to].length;
        chunk.lines.push(encodeLine(p, features, from, to));
        from = to;
      }
      chunk.count += p.keys.length;
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

function headerOf(plan: ServicePlan): Omit<SegmentHeader, 'segment'> {
  return segmentHeader(plan.service, plan.joinKeys, plan.requestFields, plan.features, plan.views.map((v) => v.layout.view));
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
