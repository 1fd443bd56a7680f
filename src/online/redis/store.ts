/**
 * The Redis online store (a single server, or a Redis Cluster with `cluster: true`).
 *
 * One string key per (view, entity) holding sort key + features (codec.ts), expiring at ts + ttl
 * (PXAT), so Redis itself removes a view's value when it stops being valid: the TTL belongs to the
 * view, not to the entity (Feast #3596). Every write is atomic and never replaces a newer row, so
 * racing syncs and pushes cannot regress a value: a Lua script compares the stored (ts, created)
 * with the new one, and batches of mostly new keys use `SET ... NX` (write only where absent),
 * sending the rest to the script. A batch of thousands of rows is one write and one round trip
 * (Feast #1969 wrote row by row). On a single server everything goes over connection.ts: bulk
 * writes on one connection, reads (one MGET) and metadata on another, both with the same timeouts
 * and reconnection. In a cluster, ioredis with the same settings (options.ts), grouped by slot.
 */
import { createHash } from 'node:crypto';
import { Cluster } from 'ioredis';
import { FsqlError, OnlineStoreError } from '../../errors.js';
import { safeUrl } from '../../secrets.js';
import { Timestamp } from '../../values.js';
import { decodeStored, encodeStored } from '../codec.js';
import { columnSource } from '../column-codec.js';
import { toOnlineRows } from '../column-rows.js';
import { entityId, hashSlot, RedisKeys, type Namespace } from '../keys.js';
import { expiryArg, rowSource, type RowSource } from '../row-source.js';
import type { ApiKeyRecord, ColumnRows, OnlineRow, OnlineStore, StoredRow, SyncStats, ViewLayout, WriteResult } from '../store.js';
import { syncStatsFrom } from '../sync-stats.js';
import { BatchBuilder, BufferPool, ROWS_PER_CALL, scriptPayload, type Payload, type Staged } from './batch.js';
import { encodeAsciiCommand, encodeCommand, ReplyError, RespConnection, type Reply } from './connection.js';
import { parseRedisUrl, type RedisOptions, type TimeoutOverrides } from './options.js';
import { Reconnecting } from './reconnecting.js';

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

const SCAN_COUNT = 1000;

interface SingleBatch {
  view: string;
  /** rows with a non-NULL key */
  rows: number;
  /** SET ... NX commands */
  nx?: Staged;
  /** rows for the script (when new keys are few, and rows already expired) */
  scripted?: Staged;
}

type PutCommand = (numKeys: number, ...keysAndArgs: string[]) => Promise<[number, number]>;

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

export class RedisStore implements OnlineStore {
  readonly location: string;
  private readonly keys: RedisKeys;
  /** single server: the connection bulk writes go through, with the put script loaded */
  private readonly bulk: Reconnecting;
  /** per view: the share of new keys in its last batch, which picks the write path of the next */
  private readonly newKeyShare = new Map<string, number>();
  private readonly buffers = new BufferPool();
  /** single server: the connection reads and metadata go through */
  private readonly reads: Reconnecting;

  private constructor(
    /** a Redis Cluster: ioredis; a single server: undefined */
    private readonly cluster: Cluster | undefined,
    url: string,
    ns: Namespace,
    options: RedisOptions,
  ) {
    this.location = safeUrl(url) + (cluster ? ' (cluster)' : '');
    this.keys = new RedisKeys(ns);
    if (cluster) {
      cluster.defineCommand('fsqlPut', { lua: PUT_SCRIPT });
      // Without a listener ioredis prints connection errors itself; commands report them instead.
      cluster.on('error', () => undefined);
    }
    this.reads = new Reconnecting(() => RespConnection.connect(options));
    this.bulk = new Reconnecting(async () => {
      const conn = await RespConnection.connect(options);
      await this.loadScript(conn).catch((e) => {
        conn.close();
        throw e;
      });
      return conn;
    });
  }

  /** Reads the URL's settings; connects on first use, so a server can start while Redis is down. */
  static open(config: RedisStoreConfig, ns: Namespace): RedisStore {
    const options = parseRedisUrl(config.url, config);
    if (!config.cluster) return new RedisStore(undefined, config.url, ns, options);
    if (options.db !== 0) throw new OnlineStoreError(`online_store url ${safeUrl(config.url)}: a Redis Cluster has only database 0.`);
    const cluster = new Cluster([{ host: options.host, port: options.port }], {
      lazyConnect: true,
      clusterRetryStrategy: (times: number) => Math.min(times * 200, 2000),
      redisOptions: {
        username: options.username,
        password: options.password,
        tls: options.tls ? { ...options.tls, servername: options.host } : undefined,
        connectTimeout: options.connectTimeoutMs,
        commandTimeout: options.commandTimeoutMs,
        keepAlive: options.keepAliveMs,
        maxRetriesPerRequest: 1,
      },
    });
    return new RedisStore(cluster, config.url, ns, options);
  }

  /** One metadata command: on a single server over the read connection, in a cluster to the key's node. */
  private async meta(args: string[]): Promise<Reply> {
    if (this.cluster) return (await this.cluster.call(args[0], ...args.slice(1))) as Reply;
    return (await this.reads.get()).command(args);
  }

  async ping(): Promise<void> {
    await this.guard(() => this.meta(['PING']));
  }

  async putLayout(layout: ViewLayout): Promise<void> {
    await this.guard(() => this.meta(['HSET', this.keys.layouts, layout.view, JSON.stringify(layout)]));
  }

  async getLayouts(): Promise<ViewLayout[]> {
    const texts = (await this.guard(() => this.meta(['HVALS', this.keys.layouts]))) as string[];
    return texts.map((t) => JSON.parse(t) as ViewLayout).sort((a, b) => a.view.localeCompare(b.view));
  }

  write(layout: ViewLayout, rows: OnlineRow[]): Promise<WriteResult> {
    try {
      if (this.cluster) {
        const { keys, args } = this.encodeForCluster(layout, rows);
        return this.guard(() => this.writeCluster(keys, args)).then((written) => ({ written, stale: rows.length - written }));
      }
      return this.writeSource(layout, rowSource(layout, rows));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  writeColumns(layout: ViewLayout, rows: ColumnRows): Promise<WriteResult> {
    try {
      return this.cluster ? this.write(layout, toOnlineRows(layout, rows)) : this.writeSource(layout, columnSource(layout, rows));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** A single server's write: encoded synchronously, so from here on only the batch's bytes wait for Redis, not the rows. */
  private writeSource(layout: ViewLayout, src: RowSource): Promise<WriteResult> {
    const batch = this.encodeSingle(layout, src);
    return this.guard(() => this.writeSingle(batch)).then((written) => ({ written, stale: src.length - written }));
  }

  private encodeForCluster(layout: ViewLayout, rows: OnlineRow[]): { keys: string[]; args: string[] } {
    const keys: string[] = [];
    const args: string[] = [];
    for (const row of rows) {
      const entity = entityId(layout, row.key);
      if (entity === undefined) continue;
      keys.push(this.keys.row(layout.view, entity));
      args.push(encodeStored(layout, row), String(expiryArg(layout, row.ts)));
    }
    return { keys, args };
  }

  private encodeSingle(layout: ViewLayout, src: RowSource): SingleBatch {
    const n = src.length;
    const nx = (this.newKeyShare.get(layout.view) ?? 1) >= NX_WORTH_IT ? new BatchBuilder(n, this.buffers, true) : undefined;
    let scripted: BatchBuilder | undefined;
    let rowsWithKey = 0;
    const head = this.keys.rowHead(layout);
    for (let i = 0; i < n; i++) {
      if (!src.hasKey(i)) continue;
      rowsWithKey++;
      const expiry = src.expiry(i);
      // An already expired row (-1) must delete an older value: only the script does that.
      if (nx && expiry !== -1) nx.add(head, src, i, expiry);
      else (scripted ??= new BatchBuilder(n, this.buffers, false)).add(head, src, i, expiry);
    }
    return { view: layout.view, rows: rowsWithKey, nx: nx?.build(), scripted: scripted?.build() };
  }

  private async writeSingle(batch: SingleBatch): Promise<number> {
    const sent: Promise<unknown>[] = [];
    const payloads: (Payload | undefined)[] = [batch.nx, batch.scripted];
    try {
      if (batch.rows === 0) return 0;
      const conn = await this.bulk.get();
      const run = (payload: Payload) => {
        payloads.push(payload);
        const p = this.runScript(conn, payload);
        sent.push(p);
        return p;
      };
      const nxReplies = batch.nx ? conn.send(batch.nx.bytes, batch.nx.count) : undefined;
      if (nxReplies) sent.push(nxReplies);
      const scripted = batch.scripted ? run(scriptPayload(PUT_SHA, batch.scripted, undefined, this.buffers)) : undefined;
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
          const [w, a] = await run(scriptPayload(PUT_SHA, batch.nx, taken, this.buffers));
          written += w;
          absent += a;
        }
      }
      if (scripted) {
        const [w, a] = await scripted;
        written += w;
        absent += a;
      }
      this.newKeyShare.set(batch.view, absent / batch.rows);
      return written;
    } finally {
      // A buffer goes back to the pool only once its replies are in (or its connection failed):
      // before that the socket may still be sending it.
      await Promise.allSettled(sent);
      for (const p of payloads) this.buffers.give(p?.buf);
    }
  }

  /** Sends script calls; returns [rows written, keys that were absent]. */
  private async runScript(conn: RespConnection, payload: Payload): Promise<[number, number]> {
    let replies = await conn.send(payload.bytes, payload.count);
    if (replies.some((r) => r instanceof ReplyError && r.message.startsWith('NOSCRIPT'))) {
      // The server lost its scripts (restart, SCRIPT FLUSH): load it and send the calls again. Rows
      // that did land are equal now, so the second pass leaves them alone.
      await this.loadScript(conn);
      replies = await conn.send(payload.bytes, payload.count);
    }
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

  private async loadScript(conn: RespConnection): Promise<void> {
    const [sha] = await conn.send(encodeCommand(['SCRIPT', 'LOAD', PUT_SCRIPT]), 1);
    if (sha instanceof ReplyError) throw sha;
  }

  /**
   * In a cluster one script call may only touch one slot: rows are grouped by slot, and the calls
   * are all sent at once (each node's connection writes them back to back, without waiting).
   */
  private async writeCluster(keys: string[], args: string[]): Promise<number> {
    const bySlot = new Map<number, number[]>();
    keys.forEach((k, i) => {
      const slot = hashSlot(k);
      const list = bySlot.get(slot);
      if (list) list.push(i);
      else bySlot.set(slot, [i]);
    });
    const put = (this.cluster as unknown as { fsqlPut: PutCommand }).fsqlPut.bind(this.cluster);
    const calls: Promise<[number, number]>[] = [];
    for (const idx of bySlot.values()) {
      for (let i = 0; i < idx.length; i += ROWS_PER_CALL) {
        const part = idx.slice(i, i + ROWS_PER_CALL);
        calls.push(put(part.length, ...part.map((j) => keys[j]), ...part.flatMap((j) => [args[2 * j], args[2 * j + 1]])));
      }
    }
    const results = await Promise.allSettled(calls);
    let written = 0;
    for (const r of results) {
      if (r.status === 'rejected') throw r.reason;
      written += Number(r.value[0]);
    }
    return written;
  }

  async read(requests: { layout: ViewLayout; key: unknown[] }[]): Promise<(StoredRow | undefined)[]> {
    // keys[i] is request i's key, or undefined for a NULL key (nothing to read)
    const keys = requests.map(({ layout, key }) => {
      const entity = entityId(layout, key);
      return entity === undefined ? undefined : this.keys.row(layout.view, entity);
    });
    const texts = new Array<string | null>(requests.length).fill(null);
    const wanted: number[] = [];
    for (let i = 0; i < keys.length; i++) if (keys[i] !== undefined) wanted.push(i);
    if (wanted.length > 0) {
      await this.guard(async () => {
        if (!this.cluster) {
          const got = await this.mget(wanted.map((i) => keys[i]!));
          wanted.forEach((i, n) => (texts[i] = got[n]));
          return;
        }
        // one MGET per slot
        const groups = new Map<number, number[]>();
        for (const i of wanted) {
          const slot = hashSlot(keys[i]!);
          const group = groups.get(slot);
          if (group) group.push(i);
          else groups.set(slot, [i]);
        }
        await Promise.all(
          [...groups.values()].map(async (group) => {
            const got = await this.cluster!.mget(group.map((i) => keys[i]!));
            group.forEach((i, n) => (texts[i] = got[n]));
          }),
        );
      });
    }
    return texts.map((text, i) => (text ? decodeStored(requests[i].layout, text) : undefined));
  }

  /** A single server's MGET over the read connection. */
  private async mget(keys: string[]): Promise<(string | null)[]> {
    const [reply] = await (await this.reads.get()).send(encodeAsciiCommand(['MGET', ...keys]), 1);
    if (reply instanceof ReplyError) throw reply;
    return reply as (string | null)[];
  }

  async getWatermark(view: string): Promise<Timestamp | undefined> {
    const text = await this.guard(() => this.meta(['HGET', this.keys.watermarks, view]));
    return text === null ? undefined : new Timestamp(BigInt(text as string));
  }

  async setWatermark(view: string, ts: Timestamp): Promise<void> {
    await this.guard(() => this.meta(['HSET', this.keys.watermarks, view, ts.micros.toString()]));
  }

  /** Both counters in one MULTI: a run is never counted without its rows. */
  async recordSync(view: string, rowsWritten: number): Promise<void> {
    const incr = (field: string, by: number) => ['HINCRBY', this.keys.syncStats, `${view}:${field}`, String(by)];
    await this.guard(async () => {
      if (this.cluster) {
        // ioredis looks up each command's method by its lower-case name
        const lower = (c: string[]) => [c[0].toLowerCase(), ...c.slice(1)];
        for (const [err] of (await this.cluster.multi([lower(incr('runs', 1)), lower(incr('rows', rowsWritten))]).exec()) ?? []) if (err) throw err;
        return;
      }
      const replies = await (await this.reads.get()).send([['MULTI'], incr('runs', 1), incr('rows', rowsWritten), ['EXEC']].map(encodeCommand).join(''), 4);
      const err = replies.find((r) => r instanceof ReplyError);
      if (err) throw err;
    });
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
      const nodes: ((args: string[]) => Promise<Reply>)[] = this.cluster
        ? this.cluster.nodes('master').map((node) => (args: string[]) => node.call(args[0], ...args.slice(1)) as Promise<Reply>)
        : [(args) => this.meta(args)];
      for (const call of nodes) {
        let cursor = '0';
        do {
          const [next, found] = (await call(['SCAN', cursor, 'MATCH', this.keys.viewPattern(view), 'COUNT', String(SCAN_COUNT)])) as [string, string[]];
          cursor = next;
          // in a cluster the keys of one SCAN page span slots: one UNLINK each
          if (found.length > 0) await Promise.all(this.cluster ? found.map((k) => call(['UNLINK', k])) : [call(['UNLINK', ...found])]);
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
    await this.bulk.close();
    await this.reads.close();
    if (!this.cluster) return;
    if (this.cluster.status === 'ready') await this.cluster.quit().catch(() => this.cluster!.disconnect());
    else this.cluster.disconnect();
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
