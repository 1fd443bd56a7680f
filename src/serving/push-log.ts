/**
 * The offline side of `/push` with `"to": "offline"` or `"online_and_offline"` (SPEC section 12):
 * rows appended to a durable local log, one segment folder per view under
 * `<log dir>/.pushed/<view>/` (feature-log/segment.ts's format), and on disk (fdatasync) before
 * the push is answered, so an acknowledged row is never lost. The server holds no warehouse
 * connection: `fsql run` (or `fsql logs load`) moves the rows into `<view>__pushed` and merges
 * them into the view's history.
 */
import { join } from 'node:path';
import type { OnlineRow, ViewLayout } from '../online/store.js';
import { PROCESS_TAG, processSequence, SegmentWriter } from '../feature-log/segment-writer.js';
import { PUSHED_FOLDER, segmentHeader, type SegmentHeader } from '../feature-log/segment.js';
import type { Column, Timestamp } from '../values.js';
import { toJsonValue } from './encode.js';

interface ViewLog {
  writer: SegmentWriter;
  layout?: ViewLayout;
  header?: Omit<SegmentHeader, 'segment'>;
  /** appends of one view run one after another */
  chain: Promise<void>;
}

/**
 * A push's id: its time (the request's clock, never earlier than this process's previous push),
 * the process and a count, so that ids sort in push order across the workers and servers of a
 * host: `fsql run` keeps the last push of a row pushed more than once (dialects/logged.ts
 * renderMergePushed), as the online store does. Each part is padded to a fixed width.
 */
let lastPushMicros = 0n;
function pushId(at: Timestamp): string {
  if (at.micros > lastPushMicros) lastPushMicros = at.micros;
  const pad = (n: number | bigint) => n.toString(36).padStart(11, '0');
  return `${pad(lastPushMicros)}-${PROCESS_TAG}-${pad(processSequence())}`;
}

export class PushLog {
  private readonly views = new Map<string, ViewLog>();

  constructor(private readonly dir: string) {}

  /** Appends the rows of one push made at `at` (the request's time); resolves once they are on disk. */
  append(layout: ViewLayout, createdColumn: string | undefined, rows: OnlineRow[], at: Timestamp): Promise<void> {
    let v = this.views.get(layout.view);
    if (!v) this.views.set(layout.view, (v = { writer: new SegmentWriter(join(this.dir, PUSHED_FOLDER, layout.view)), chain: Promise.resolve() }));
    if (v.layout !== layout) {
      v.layout = layout;
      const created: Column[] = createdColumn ? [{ name: createdColumn, type: { type: 'timestamp' } }] : [];
      v.header = segmentHeader(layout.view, layout.joinKeys, created, layout.features.map((f) => ({ view: layout.view, feature: f.name, type: f.type })), []);
    }
    const header = v.header!;
    const id = pushId(at);
    const text = rows.map((r, i) => {
      const created = createdColumn ? [r.created ? r.created.toISOString() : null] : [];
      return JSON.stringify({ id, t: Number(r.ts.micros), row: i, k: r.key.map(toJsonValue), c: created, v: layout.features.map((f) => toJsonValue(r.values[f.name] ?? null)), e: [] });
    });
    const writer = v.writer;
    const done = v.chain.then(() => writer.append(header, `${text.join('\n')}\n`));
    // a failed append fails its push; the next one opens a new segment
    v.chain = done.catch(() => writer.close().catch(() => undefined));
    return done;
  }

  async close(): Promise<void> {
    for (const v of this.views.values()) {
      await v.chain;
      await v.writer.close();
    }
  }
}
