/**
 * Feature logging (SPEC section 12): what the server answered, for the services with
 * `logging: {sample_rate}`. The request path only draws the sample and queues references to what it
 * already holds (keys, request fields, the rows read); a timer turns the queue into NDJSON lines and
 * appends them to segment files (feature-log/segment-writer.ts) at least once per `flushMs`. The
 * queue is bounded: a vector that finds it full is dropped and counted in /metrics. close() writes
 * everything queued, so a clean stop loses nothing; a kill loses at most the last interval.
 */
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { typedVector, type ServedRow, type ServicePlan } from '../online/vector.js';
import type { Project } from '../project/types.js';
import type { Timestamp, Value } from '../values.js';
import { processTag, SegmentWriter } from '../feature-log/segment-writer.js';
import { LOG_FORMAT_VERSION, type LogEntry, type SegmentHeader } from '../feature-log/segment.js';
import { toJsonValue } from './encode.js';
import type { Metrics } from './metrics.js';
import { seriesKey } from '../prometheus-text.js';

export const DEFAULT_FLUSH_MS = 500;
export const DEFAULT_QUEUE_ENTRIES = 100_000;

/** How the log schedules its flushes; tests pass one they trigger themselves. */
export interface FlushTimer {
  start(flush: () => void, ms: number): void;
  stop(): void;
}

export function intervalTimer(): FlushTimer {
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
}

/** A sampled request as the handler left it: references only, encoded later. */
interface Pending {
  plan: ServicePlan;
  id: string;
  now: Timestamp;
  keys: readonly Value[][];
  requests: readonly Value[][];
  served: readonly ServedRow[][];
}

interface ServiceLog {
  rate: number;
  writer: SegmentWriter;
  /** the header of the plan last written, rebuilt when the catalogue reloads with a new plan */
  plan?: ServicePlan;
  header?: Omit<SegmentHeader, 'segment'>;
  dropped: string;
  written: string;
  failed: string;
}

/** The default log directory: `<target-path>/feature_logs/<target>`. */
export function defaultLogDir(project: Project): string {
  return join(project.targetPath, 'feature_logs', project.target.name);
}

export class FeatureLog {
  private readonly services = new Map<string, ServiceLog>();
  private queue: Pending[] = [];
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
        rate: s.logging.sampleRate,
        writer: new SegmentWriter(join(opts.dir, s.name), opts.segmentBytes),
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

  /** On the request path: samples the request and queues what was served (one vector per row of keys). */
  record(plan: ServicePlan, now: Timestamp, keys: readonly Value[][], requests: readonly Value[][], served: readonly ServedRow[][]): void {
    const s = this.services.get(plan.service);
    if (!s || this.closed) return;
    if (s.rate < 1 && this.random() >= s.rate) return;
    if (this.queued + keys.length > this.maxQueue) {
      this.opts.metrics.incKey(s.dropped, keys.length);
      return;
    }
    this.queue.push({ plan, id: `${processTag}-${(this.requests++).toString(36)}`, now, keys, requests, served });
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

  private async writeQueued(): Promise<void> {
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    this.queued = 0;
    const lines = new Map<ServiceLog, { text: string[]; count: number; header: Omit<SegmentHeader, 'segment'> }>();
    for (const p of batch) {
      const s = this.services.get(p.plan.service)!;
      if (s.plan !== p.plan) {
        s.plan = p.plan;
        s.header = headerOf(p.plan);
      }
      let out = lines.get(s);
      if (!out || out.header !== s.header) {
        if (out) await this.write(s, out.header, out.text, out.count);
        out = { text: [], count: 0, header: s.header! };
        lines.set(s, out);
      }
      for (let r = 0; r < p.keys.length; r++) out.text.push(encodeEntry(p, r));
      out.count += p.keys.length;
    }
    for (const [s, out] of lines) await this.write(s, out.header, out.text, out.count);
  }

  private async write(s: ServiceLog, header: Omit<SegmentHeader, 'segment'>, text: string[], count: number): Promise<void> {
    try {
      await s.writer.append(header, `${text.join('\n')}\n`);
      this.opts.metrics.incKey(s.written, count);
    } catch (e) {
      // a failed write may have left part of a line: the next append starts a new segment
      this.opts.metrics.incKey(s.failed, count);
      this.opts.log.error(`feature log of service '${header.service}': ${count} entries could not be written: ${(e as Error).message}`);
      await s.writer.close().catch(() => undefined);
    }
  }
}

function headerOf(plan: ServicePlan): Omit<SegmentHeader, 'segment'> {
  return {
    fsql_log: LOG_FORMAT_VERSION,
    service: plan.service,
    join_keys: plan.joinKeys.map((k) => ({ name: k.name, type: k.type })),
    request_fields: plan.requestFields.map((f) => ({ name: f.name, type: f.type })),
    features: plan.features.map((f) => ({ view: f.view, feature: f.feature, type: f.type })),
    views: plan.views.map((v) => v.layout.view),
  };
}

function encodeEntry(p: Pending, r: number): string {
  const served = p.served[r];
  const vector = typedVector(p.plan, served as ServedRow[], p.requests[r] ?? []);
  const entry: LogEntry = {
    id: p.id,
    row: r,
    t: p.now.toISOString(),
    k: p.keys[r].map(toJsonValue),
    c: (p.requests[r] ?? []).map(toJsonValue),
    v: vector.map((f) => toJsonValue(f.value)),
    s: served.map((x) => (x.reason === undefined ? 'PRESENT' : 'MISSING_DATA')),
    e: served.map((x) => (x.reason === undefined ? x.row!.ts.toISOString() : null)),
  };
  return JSON.stringify(entry);
}
