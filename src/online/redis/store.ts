/**
 * The Redis online store (a single server, or a Redis Cluster with `cluster: true`).
 *
 * One string key per (view, entity) holding sort key + features (codec.ts), expiring at ts + ttl
 * (PXAT), so Redis itself removes a view's value when it stops being valid: the TTL belongs to the
 * view, not to the entity (Feast #3596). Every write is atomic and never replaces a newer row, so
 * racing syncs and pushes cannot regress a value: a Lua script compares the stored (ts, created)
 * with the new one, and batches of mostly new keys use `SET ... NX` (write only where absent),
 * sending the rest to the script. A batch of thousands of rows is one write and one round trip
 * (Feast #1969 wrote row by row). A single server and a Redis Cluster go through one transport
 * (transport.ts) and one code path: rows and keys are grouped by the primary that serves them
 * (one group on a single server), and each primary gets its batch as one write.
 */
import { createHash } from 'node:crypto';
import { FsqlError, OnlineStoreError } from '../../errors.js';
import { safeUrl } from '../../secrets.js';
import { Timestamp } from '../../values.js';
import { decodeStored, encodeStored, fingerprintOf } from '../codec.js';
import { columnSource } from '../column-codec.js';
import { crc16, entityId, entityPrefix, hashSlot, RedisKeys, type Namespace } from '../keys.js';
import { expiryArg, rowSource, type RowSource } from '../row-source.js';
import type { ApiKeyRecord, ColumnRows, OnlineRow, OnlineStore, PushedEntry, Replacement, StoredRow, SyncRecord, SyncStats, ViewLayout, WriteResult } from '../store.js';
import { syncStatsFrom } from './sync-stats.js';
import { BatchBuilder, BufferPool, ROWS_PER_CALL, scriptPayload, setNxPayload, type Payload, type Staged } from './batch.js';
import { ReplyError, type Reply, type RespConnection } from './connection.js';
import { parseRedisUrl, type TimeoutOverrides } from './options.js';
import { RedisTransport, type RedisNode } from './transport.js';

/**
 * KEYS: row keys. ARGV: per key, the encoded row and its expiry in Unix ms (0: none; -1: already
 * expired, so the key is deleted). A row is written when no value is stored, when its first 32
 * characters (ts, created) sort after the stored ones, or when they are equal and the features
 * differ (the offline table recomputed that row). Returns {rows written, keys that were absent}.
 */
const PUT_SCRIPT = `
local written, absent = 0, 0
local call, sub = redis.call, string.sub
for i = 1, #KEYS do
  local new = ARGV[2 * i - 1]
  local old = call('GET', KEYS[i])
  local newer = not old
  if newer then
    absent = absent + 1
  else
    local a, b = sub(old, 1, 32), sub(new, 1, 32)
    newer = a < b or (a == b and old ~= new)
  end
  if newer then
    local at = tonumber(ARGV[2 * i])
    if at > 0 then
      call('SET', KEYS[i], new, 'PXAT', at)
    elseif at == 0 then
      call('SET', KEYS[i], new)
    else
      call('DEL', KEYS[i])
    end
    written = written + 1
  end
end
return {written, absent}
`;

const PUT_SHA = createHash('sha1').update(PUT_SCRIPT).digest('hex');

/**
 * Compare and set (OnlineStore.replace). KEYS: a row key, its pushed-event log. ARGV: the stored
 * value expected ('' for none), the new value, its expiry in Unix ms (0: none; -1: already expired,
 * so deleted), how many bytes of the log's start the new value folded in (0: none), the entries
 * that take their place.
 * Returns 1 when the stored value was the expected one and is replaced, else 0.
 */
const REPLACE_SCRIPT = `
local old = redis.call('GET', KEYS[1]) or ''
if old ~= ARGV[1] then return 0 end
local at = tonumber(ARGV[3])
if at > 0 then
  redis.call('SET', KEYS[1], ARGV[2], 'PXAT', at)
elseif at == 0 then
  redis.call('SET', KEYS[1], ARGV[2])
else
  redis.call('DEL', KEYS[1])
end
local folded = tonumber(ARGV[4])
if folded > 0 then
  local log = ARGV[5] .. redis.call('GETRANGE', KEYS[2], folded, -1)
  if log == '' then redis.call('DEL', KEYS[2]) else redis.call('SET', KEYS[2], log, 'KEEPTTL') end
end
return 1
`;

/**
 * Events pushed to entities of an aggregate view (OnlineStore.appendPushed). KEYS: per entity its
 * row key and its pushed-event log. ARGV: the view's empty state as a stored row and its expiry in
 * Unix ms (as PUT_SCRIPT's), then per entity the log's new entries and until when the log must be
 * kept (Unix ms). The empty state is written where no row is stored or the stored one sorts before
 * it (PUT_SCRIPT's rule, on the first 32 characters only); a log's expiry only moves later.
 * Returns per entity its log's length.
 */
const PUSH_SCRIPT = `
local call = redis.call
local new, at = ARGV[1], tonumber(ARGV[2])
local head = string.sub(new, 1, 32)
local lengths = {}
for i = 1, #KEYS / 2 do
  local row, log = KEYS[2 * i - 1], KEYS[2 * i]
  if at ~= -1 and call('GETRANGE', row, 0, 31) < head then
    if at > 0 then call('SET', row, new, 'PXAT', at) else call('SET', row, new) end
  end
  local text = ARGV[2 * i + 1]
  local length = call('APPEND', log, text)
  lengths[i] = length
  -- a new log has no expiry, which GT takes for an infinite one
  if length == #text then call('PEXPIREAT', log, ARGV[2 * i + 2]) else call('PEXPIREAT', log, ARGV[2 * i + 2], 'GT') end
end
return lengths
`;

const PUSH_SHA = createHash('sha1').update(PUSH_SCRIPT).digest('hex');

const SCAN_COUNT = 1000;

/** One primary's part of a write. */
interface NodeBatch {
  node: RedisNode;
  /** rows with a non-NULL key */
  rows: number;
  /** SET ... NX commands */
  nx?: Staged;
  /** cluster: the slot of each nx row (a script call may touch one slot only) */
  nxSlots?: Int16Array;
  /** rows for the script (when new keys are few, and rows already expired): all of `scripted`, or these */
  scripted?: Staged;
  scriptedRows?: number[];
  scriptedSlots?: Int16Array;
  /** buffers to give back to the pool once the replies are in */
  own: Buffer[];
}

/** A cluster's write as read from the rows: keys and values in one plain batch, with each row's slot. */
interface ClusterWrite {
  staged?: Staged;
  slots: Int16Array;
  useNx: boolean;
}

/**
 * A batch whose keys are mostly new (a first sync, a full refresh) is written with plain
 * `SET key value PXAT t NX` — half the server CPU of the script — and only the rows whose key
 * already exists go through the script. While the share of new keys stays below this, batches go
 * to the script directly.
 */
const NX_WORTH_IT = 0.5;

export interface RedisStoreConfig extends TimeoutOverrides {
  url: string;
  cluster?: boolean;
}

/** Row indexes grouped by slot (a cluster's script calls); one group of all rows on a single server. */
function bySlot(rows: readonly number[], slots: Int16Array | undefined): number[][] {
  if (!slots) return rows.length > 0 ? [[...rows]] : [];
  const groups = new Map<number, number[]>();
  for (const r of rows) {
    const g = groups.get(slots[r]);
    if (g) g.push(r);
    else groups.set(slots[r], [r]);
  }
  return [...groups.values()];
}

export class RedisStore implements OnlineStore {
  readonly location: string;
  private readonly keys: RedisKeys;
  private readonly transport: RedisTransport;
  /** per view: the share of new keys in its last batch, which picks the write path of the next */
  private readonly newKeyShare = new Map<string, number>();
  private readonly buffers = new BufferPool();

  private constructor(url: string, ns: Namespace, transport: (prepareBulk: (conn: RespConnection) => Promise<void>) => RedisTransport) {
    this.keys = new RedisKeys(ns);
    this.transport = transport((conn) => this.loadScript(conn));
    this.location = safeUrl(url) + (this.transport.cluster ? ' (cluster)' : '');
  }

  /** Reads the URL's settings; connects on first use, so a server can start while Redis is down. */
  static open(config: RedisStoreConfig, ns: Namespace): RedisStore {
    const options = parseRedisUrl(config.url, config);
    if (config.cluster && options.db !== 0) throw new OnlineStoreError(`online_store url ${safeUrl(config.url)}: a Redis Cluster has only database 0.`);
    return new RedisStore(config.url, ns, (prepare) => new RedisTransport(options, Boolean(config.cluster), prepare));
  }

  /** One command on the read connection of the node of `key` (args[1] by default); in a cluster followed through MOVED. */
  private meta(args: string[], key = args[1]): Promise<Reply> {
    return this.transport.retried(async () => {
      const node = await this.transport.nodeOf(this.transport.cluster ? hashSlot(key) : 0);
      return (await node.reads.get()).command(args);
    });
  }

  async ping(): Promise<void> {
    await this.guard(async () => {
      for (const node of await this.transport.primaries()) await (await node.reads.get()).command(['PING']);
    });
  }

  async putLayout(layout: ViewLayout): Promise<void> {
    await this.guard(() => this.meta(['HSET', this.keys.layouts, layout.view, JSON.stringify(layout)]));
  }

  async getLayouts(): Promise<ViewLayout[]> {
    const texts = (await this.guard(() => this.meta(['HVALS', this.keys.layouts]))) as string[];
    return texts.map((t) => JSON.parse(t) as ViewLayout).sort((a, b) => a.view.localeCompare(b.view));
  }

  write(layout: ViewLayout, rows: OnlineRow[]): Promise<WriteResult> {
    return this.writeSource(layout, () => rowSource(layout, rows));
  }

  writeColumns(layout: ViewLayout, rows: ColumnRows): Promise<WriteResult> {
    return this.writeSource(layout, () => columnSource(layout, rows));
  }

  /** Every write is decided when it is acknowledged: nothing waits here. */
  async flush(): Promise<WriteResult> {
    return { written: 0, stale: 0 };
  }

  /**
   * The rows are read and encoded before the first await (a warehouse batch's memory may not
   * outlive the call), so from then on only bytes wait for Redis. In a cluster they are then
   * shared out by the slot map (loaded on first use), and a write that meets a moved slot is
   * shared out and sent once more after reloading it (the monotonic rule makes that harmless).
   */
  private async writeSource(layout: ViewLayout, source: () => RowSource): Promise<WriteResult> {
    const src = source();
    const useNx = (this.newKeyShare.get(layout.view) ?? 1) >= NX_WORTH_IT;
    if (!this.transport.cluster) {
      const batch = this.encodeSingle(layout, src, useNx);
      const written = await this.guard(() => this.writeBatches(layout.view, [batch]));
      return { written, stale: src.length - written };
    }
    const cw = this.encodeCluster(layout, src, useNx);
    try {
      const written = await this.guard(() => this.transport.retried(async () => this.writeBatches(layout.view, await this.shareOut(cw))));
      return { written, stale: src.length - written };
    } finally {
      this.buffers.give(cw.staged?.buf);
    }
  }

  private encodeSingle(layout: ViewLayout, src: RowSource, useNx: boolean): NodeBatch {
    const n = src.length;
    const head = this.keys.rowHead(layout);
    const nx = useNx ? new BatchBuilder(n, this.buffers, true) : undefined;
    let scripted: BatchBuilder | undefined;
    let rows = 0;
    for (let i = 0; i < n; i++) {
      if (!src.hasKey(i)) continue;
      rows++;
      const expiry = src.expiry(i);
      // An already expired row (-1) must delete an older value: only the script does that.
      if (nx && expiry !== -1) nx.add(head, src, i, expiry);
      else (scripted ??= new BatchBuilder(n, this.buffers, false)).add(head, src, i, expiry);
    }
    const batch: NodeBatch = { node: this.transport.single, rows, nx: nx?.build(), scripted: scripted?.build(), own: [] };
    for (const s of [batch.nx, batch.scripted]) if (s) batch.own.push(s.buf);
    return batch;
  }

  private encodeCluster(layout: ViewLayout, src: RowSource, useNx: boolean): ClusterWrite {
    const n = src.length;
    const head = this.keys.rowHead(layout);
    const plain = new BatchBuilder(n, this.buffers, false);
    for (let i = 0; i < n; i++) if (src.hasKey(i)) plain.add(head, src, i, src.expiry(i));
    const staged = plain.build();
    if (!staged) return { slots: new Int16Array(0), useNx };
    // a row key is `head` (ending in the hash tag's `{` and the entity's first `name=`), the rest of
    // the entity, then `}`: the slot is the CRC of what lies between the braces
    const tagFromHead = entityPrefix(layout).length;
    const slots = new Int16Array(staged.count);
    for (let r = 0; r < staged.count; r++) {
      const start = staged.ranges[r * 4] + head.length - tagFromHead;
      slots[r] = crc16(staged.bytes, start, staged.ranges[r * 4 + 1] - 1) & 16383;
    }
    return { staged, slots, useNx };
  }

  /** A cluster's write per primary: SET NX commands framed for each (where chosen), the rest for the script. */
  private async shareOut(cw: ClusterWrite): Promise<NodeBatch[]> {
    const { staged, slots } = cw;
    if (!staged) return [];
    const map = await this.transport.slotMap();
    const perNode = new Map<RedisNode, number[]>();
    for (let r = 0; r < staged.count; r++) {
      const node = map[slots[r]];
      if (!node) throw new OnlineStoreError(`no node of the Redis Cluster serves slot ${slots[r]} (CLUSTER SLOTS)`);
      const list = perNode.get(node);
      if (list) list.push(r);
      else perNode.set(node, [r]);
    }
    return [...perNode].map(([node, rows]) => {
      // An already expired row (-1) must delete an older value: only the script does that.
      const nxRows = cw.useNx ? rows.filter((r) => staged.expiries[r] !== -1) : [];
      const scriptedRows = cw.useNx ? rows.filter((r) => staged.expiries[r] === -1) : rows;
      const nx = nxRows.length > 0 ? setNxPayload(staged, nxRows, this.buffers) : undefined;
      return {
        node,
        rows: rows.length,
        nx,
        nxSlots: nx ? Int16Array.from(nxRows, (r) => slots[r]) : undefined,
        scripted: scriptedRows.length > 0 ? staged : undefined,
        scriptedRows,
        scriptedSlots: slots,
        own: nx ? [nx.buf] : [],
      };
    });
  }

  /** Sends every primary its batch at once; returns the rows written. */
  private async writeBatches(view: string, batches: NodeBatch[]): Promise<number> {
    const results = await Promise.allSettled(batches.map((b) => this.writeNode(b)));
    let written = 0;
    let absent = 0;
    let rows = 0;
    results.forEach((r, i) => {
      if (r.status === 'rejected') throw r.reason;
      written += r.value[0];
      absent += r.value[1];
      rows += batches[i].rows;
    });
    if (rows > 0) this.newKeyShare.set(view, absent / rows);
    return written;
  }

  /** One primary's batch: SET NX first where chosen, the script for the rest; returns [rows written, keys that were absent]. */
  private async writeNode(batch: NodeBatch): Promise<[number, number]> {
    const sent: Promise<unknown>[] = [];
    const own = [...batch.own];
    try {
      if (batch.rows === 0) return [0, 0];
      const conn = await batch.node.bulk.get();
      const run = (payload: Payload) => {
        own.push(payload.buf);
        const p = this.runScript(conn, payload);
        sent.push(p);
        return p;
      };
      const nxReplies = batch.nx ? conn.send(batch.nx.bytes, batch.nx.count) : undefined;
      if (nxReplies) sent.push(nxReplies);
      const scriptedRows = batch.scripted ? (batch.scriptedRows ?? Array.from({ length: batch.scripted.count }, (_, i) => i)) : [];
      const scripted = batch.scripted ? run(scriptPayload(PUT_SHA, batch.scripted, bySlot(scriptedRows, batch.scriptedSlots), this.buffers)) : undefined;
      for (const p of sent) p.catch(() => undefined);
      let written = 0;
      let absent = 0;
      if (batch.nx && nxReplies) {
        const taken: number[] = [];
        (await nxReplies).forEach((r, i) => {
          if (r instanceof ReplyError) throw r;
          if (r === 'OK') written++;
          else taken.push(i);
        });
        absent += written;
        if (taken.length > 0) {
          const [w, a] = await run(scriptPayload(PUT_SHA, batch.nx, bySlot(taken, batch.nxSlots), this.buffers));
          written += w;
          absent += a;
        }
      }
      if (scripted) {
        const [w, a] = await scripted;
        written += w;
        absent += a;
      }
      return [written, absent];
    } finally {
      // A buffer goes back to the pool only once its replies are in (or its connection failed):
      // before that the socket may still be sending it.
      await Promise.allSettled(sent);
      for (const buf of own) this.buffers.give(buf);
    }
  }

  /** Sends script calls; returns [rows written, keys that were absent]. */
  private async runScript(conn: RespConnection, payload: Payload): Promise<[number, number]> {
    const replies = await this.sendScripted(conn, () => conn.send(payload.bytes, payload.count));
    let written = 0;
    let absent = 0;
    for (const r of replies) {
      if (r instanceof ReplyError) throw r;
      const [w, a] = r as number[];
      written += w;
      absent += a;
    }
    return [written, absent];
  }

  /**
   * Sends EVALSHA calls. A server that lost its scripts (restart, SCRIPT FLUSH) gets them again and
   * the calls once more: put and push scripts may run twice (rows that landed are equal then, and
   * an event appended twice counts once).
   */
  private async sendScripted(conn: RespConnection, send: () => Promise<Reply[]>): Promise<Reply[]> {
    const replies = await send();
    if (!replies.some((r) => r instanceof ReplyError && r.message.startsWith('NOSCRIPT'))) return replies;
    await this.loadScript(conn);
    return send();
  }

  /** Loads the scripts bulk connections call by their sha1 (PUT_SCRIPT, PUSH_SCRIPT). */
  private async loadScript(conn: RespConnection): Promise<void> {
    const replies = await conn.sendCommands([['SCRIPT', 'LOAD', PUT_SCRIPT], ['SCRIPT', 'LOAD', PUSH_SCRIPT]]);
    for (const r of replies) if (r instanceof ReplyError) throw r;
  }

  /** One EVAL per row, each sent to the node of its key; in a cluster followed through MOVED. */
  async replace(layout: ViewLayout, changes: Replacement[]): Promise<boolean[]> {
    const fingerprint = layout.aggregate ? fingerprintOf(layout) : '';
    return this.guard(() =>
      Promise.all(
        changes.map(async ({ row, expected, folded }) => {
          const entity = entityId(layout, row.key);
          if (entity === undefined) return false;
          const key = this.keys.row(layout.view, entity);
          const log = fingerprint ? this.keys.pushed(layout.view, entity, fingerprint) : key;
          const args = ['EVAL', REPLACE_SCRIPT, '2', key, log, expected?.text ?? '', encodeStored(layout, row), String(expiryArg(layout, row.ts)), String(folded?.length ?? 0), folded?.kept ?? ''];
          return (await this.meta(args, key)) === 1;
        }),
      ),
    );
  }

  /**
   * Push script calls of up to ROWS_PER_CALL entities (a cluster's: of one slot), each primary's
   * written together on its bulk connection; in a cluster followed through MOVED (a log appended
   * twice holds its events twice, which count once).
   */
  async appendPushed(layout: ViewLayout, empty: OnlineRow, entries: PushedEntry[]): Promise<number[]> {
    const fingerprint = fingerprintOf(layout);
    const shared = [encodeStored(layout, empty), String(expiryArg(layout, empty.ts))];
    const keys = entries.map((e) => {
      const entity = entityId(layout, e.key);
      if (entity === undefined) throw new Error(`appendPushed: an entity of '${layout.view}' with a NULL join key`);
      return [this.keys.row(layout.view, entity), this.keys.pushed(layout.view, entity, fingerprint)];
    });
    const lengths = new Array<number>(entries.length);
    await this.guard(() =>
      this.transport.retried(async () => {
        const perNode = new Map<RedisNode, number[][]>();
        const slots = this.transport.cluster ? new Int16Array(keys.map(([row]) => hashSlot(row))) : undefined;
        for (const group of bySlot(entries.map((_e, i) => i), slots)) {
          const node = await this.transport.nodeOf(slots ? slots[group[0]] : 0);
          const calls = perNode.get(node) ?? [];
          for (let at = 0; at < group.length; at += ROWS_PER_CALL) calls.push(group.slice(at, at + ROWS_PER_CALL));
          perNode.set(node, calls);
        }
        await Promise.all(
          [...perNode].map(async ([node, calls]) => {
            const conn = await node.bulk.get();
            const commands = calls.map((ids) => ['EVALSHA', PUSH_SHA, String(2 * ids.length), ...ids.flatMap((i) => keys[i]), ...shared, ...ids.flatMap((i) => [entries[i].text, String(entries[i].keepUntil)])]);
            const replies = await this.sendScripted(conn, () => conn.sendCommands(commands));
            replies.forEach((r, n) => {
              if (r instanceof ReplyError) throw r;
              (r as number[]).forEach((length, k) => (lengths[calls[n][k]] = length));
            });
          }),
        );
      }),
    );
    return lengths;
  }

  /**
   * One round trip per primary: its keys as one MGET per slot (a cluster's MGET may not span slots),
   * all in one write. An aggregate view's row comes with its entity's pushed events (the same slot).
   */
  async read(requests: { layout: ViewLayout; key: unknown[] }[]): Promise<(StoredRow | undefined)[]> {
    const texts = new Array<string | null>(requests.length).fill(null);
    const logs = new Array<string | null>(requests.length).fill(null);
    const keys: string[] = [];
    /** per key: its request, negative (-1 - i) for request i's pushed events */
    const at: number[] = [];
    requests.forEach(({ layout, key }, i) => {
      const entity = entityId(layout, key);
      if (entity === undefined) return; // a NULL key: nothing to read
      keys.push(this.keys.row(layout.view, entity));
      at.push(i);
      if (layout.aggregate) {
        keys.push(this.keys.pushed(layout.view, entity, fingerprintOf(layout)));
        at.push(-1 - i);
      }
    });
    const put = (n: number, t: string | null) => {
      if (at[n] >= 0) texts[at[n]] = t;
      else logs[-1 - at[n]] = t;
    };
    if (keys.length > 0) {
      await this.guard(() =>
        this.transport.retried(async () => {
          if (!this.transport.cluster) {
            const got = await this.mget(this.transport.single, [keys]);
            got[0].forEach((t, n) => put(n, t));
            return;
          }
          const groups = new Map<number, number[]>();
          keys.forEach((k, n) => {
            const slot = hashSlot(k);
            const g = groups.get(slot);
            if (g) g.push(n);
            else groups.set(slot, [n]);
          });
          const perNode = new Map<RedisNode, number[][]>();
          const map = await this.transport.slotMap();
          for (const [slot, g] of groups) {
            const node = map[slot];
            if (!node) throw new OnlineStoreError(`no node of the Redis Cluster serves slot ${slot} (CLUSTER SLOTS)`);
            const list = perNode.get(node);
            if (list) list.push(g);
            else perNode.set(node, [g]);
          }
          await Promise.all(
            [...perNode].map(async ([node, gs]) => {
              const got = await this.mget(node, gs.map((g) => g.map((n) => keys[n])));
              gs.forEach((g, j) => g.forEach((n, m) => put(n, got[j][m])));
            }),
          );
        }),
      );
    }
    return texts.map((text, i) => (text ? decodeStored(requests[i].layout, text, logs[i] ?? undefined) : undefined));
  }

  /** MGETs over a node's read connection, written together. */
  private async mget(node: RedisNode, groups: string[][]): Promise<(string | null)[][]> {
    const replies = await (await node.reads.get()).sendCommands(groups.map((g) => ['MGET', ...g]));
    for (const r of replies) if (r instanceof ReplyError) throw r;
    return replies as (string | null)[][];
  }

  async getWatermark(view: string): Promise<Timestamp | undefined> {
    const text = await this.guard(() => this.meta(['HGET', this.keys.watermarks, view]));
    return text === null ? undefined : new Timestamp(BigInt(text as string));
  }

  async setWatermark(view: string, ts: Timestamp): Promise<void> {
    await this.guard(() => this.meta(['HSET', this.keys.watermarks, view, ts.micros.toString()]));
  }

  /** A success's counters and times in one MULTI: a run is never counted without its rows. */
  async recordSync(view: string, record: SyncRecord): Promise<void> {
    const key = this.keys.syncStats;
    const incr = (field: string, by: number) => ['HINCRBY', key, `${view}:${field}`, String(by)];
    const commands = record.ok
      ? [incr('runs', 1), incr('rows', record.rows), ['HSET', key, `${view}:last_success`, String(record.at.millis / 1000), `${view}:duration`, String(record.seconds)]]
      : [incr('failures', 1)];
    await this.guard(() =>
      this.transport.retried(async () => {
        const node = await this.transport.nodeOf(hashSlot(key));
        const replies = await (await node.reads.get()).sendCommands([['MULTI'], ...commands, ['EXEC']]);
        const err = replies.find((r) => r instanceof ReplyError);
        if (err) throw err;
      }),
    );
  }

  async getSyncStats(): Promise<SyncStats[]> {
    const flat = (await this.guard(() => this.meta(['HGETALL', this.keys.syncStats]))) as string[];
    const fields: [string, string][] = [];
    for (let i = 0; i < flat.length; i += 2) fields.push([flat[i], flat[i + 1]]);
    return syncStatsFrom(fields);
  }

  /**
   * The watermark goes first, so a crash part-way leaves a store the next sync fills from scratch;
   * then the rows (SCAN on every primary), then the layout.
   */
  async dropView(view: string): Promise<void> {
    await this.guard(async () => {
      await this.meta(['HDEL', this.keys.watermarks, view]);
      for (const node of await this.transport.primaries()) {
        const conn = () => node.reads.get();
        let cursor = '0';
        do {
          const [next, found] = (await (await conn()).command(['SCAN', cursor, 'MATCH', this.keys.viewPattern(view), 'COUNT', String(SCAN_COUNT)])) as [string, string[]];
          cursor = next;
          // in a cluster the keys of one SCAN page span slots: one UNLINK each, sent together
          if (found.length > 0) {
            const commands = this.transport.cluster ? found.map((k) => ['UNLINK', k]) : [['UNLINK', ...found]];
            const replies = await (await conn()).sendCommands(commands);
            const err = replies.find((r) => r instanceof ReplyError);
            if (err) throw err;
          }
        } while (cursor !== '0');
      }
      await this.meta(['HDEL', this.keys.layouts, view]);
    });
  }

  async putApiKey(record: ApiKeyRecord): Promise<void> {
    await this.guard(() => this.meta(['HSET', this.keys.apiKeys, record.hash, JSON.stringify(record)]));
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    const texts = (await this.guard(() => this.meta(['HVALS', this.keys.apiKeys]))) as string[];
    return texts.map((t) => JSON.parse(t) as ApiKeyRecord).sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  async findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const text = await this.guard(() => this.meta(['HGET', this.keys.apiKeys, hash]));
    return text === null ? undefined : (JSON.parse(text as string) as ApiKeyRecord);
  }

  async close(): Promise<void> {
    await this.transport.close();
  }

  /** Every Redis failure becomes an OnlineStoreError naming the URL (without its password). */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof FsqlError) throw e;
      throw new OnlineStoreError(describeRedisError(this.location, e as Error));
    }
  }
}

export function describeRedisError(location: string, e: Error): string {
  const msg = e?.message ?? String(e);
  if (/WRONGPASS|NOAUTH|invalid password|invalid username-password|AUTH failed/i.test(msg)) {
    return `Redis at ${location} refused the credentials (${msg.split('.')[0]}). Check the user and password in the online_store url of profiles.yml.`;
  }
  const detail = msg.replace(/\.\s*$/, '');
  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|did not answer|Command timed out|EHOSTUNREACH|max retries per request|None of startup nodes|Connection is closed|Failed to refresh slots cache/i.test(msg)) {
    return `cannot reach Redis at ${location} (${detail}). Start Redis or fix the online_store url in profiles.yml.`;
  }
  return `Redis at ${location}: ${detail}`;
}
