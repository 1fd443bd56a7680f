/**
 * How the Redis store reaches its servers: a single server, or the primaries of a Redis Cluster,
 * each behind the same two connections (connection.ts: timeouts, keepalive, TLS, AUTH) that
 * reopen on their next use after a failure. Reads and metadata share one connection per server;
 * bulk writes have their own, with the put script loaded, so a sync's megabytes never queue in
 * front of a serving read.
 *
 * In a cluster the slot of each key picks the primary (keys.ts hashSlot); the slot map comes from
 * CLUSTER SLOTS, asked of any known node when first needed and again after a MOVED or ASK reply
 * (resharding, failover), after which the command is sent once more (retried()).
 */
import { ConnectionClosedError, ReplyError, RespConnection, type Reply } from './connection.js';
import type { RedisOptions } from './options.js';
import { Reconnecting } from './reconnecting.js';

export interface RedisNode {
  /** host:port, for messages */
  address: string;
  reads: Reconnecting;
  bulk: Reconnecting;
}

const SLOTS = 16384;

export class RedisTransport {
  private readonly nodes = new Map<string, RedisNode>();
  /** cluster: the node of each slot, once known */
  private slots?: RedisNode[];
  private refreshing?: Promise<void>;

  /** `prepareBulk` runs on every new bulk connection (the store loads its script there). */
  constructor(
    private readonly options: RedisOptions,
    readonly cluster: boolean,
    private readonly prepareBulk: (conn: RespConnection) => Promise<void>,
  ) {
    if (!cluster) this.node(options.host, options.port);
  }

  /** A single server's node. */
  get single(): RedisNode {
    return this.nodes.values().next().value!;
  }

  /** The node serving a slot (a single server: always the one). */
  async nodeOf(slot: number): Promise<RedisNode> {
    if (!this.cluster) return this.single;
    if (!this.slots) await this.refresh();
    const node = this.slots![slot];
    if (!node) throw new Error(`no node of the Redis Cluster serves slot ${slot} (CLUSTER SLOTS)`);
    return node;
  }

  /** A cluster's node of every slot (loaded when first needed), for callers that look up many. */
  async slotMap(): Promise<readonly RedisNode[]> {
    if (!this.slots) await this.refresh();
    return this.slots!;
  }

  /** Every primary (a single server: the one). */
  async primaries(): Promise<RedisNode[]> {
    if (!this.cluster) return [this.single];
    if (!this.slots) await this.refresh();
    return [...new Set(this.slots!.filter(Boolean))];
  }

  /**
   * Runs `fn`, and once more when it meets a MOVED or ASK reply (after reloading the slot map) or
   * a connection that had closed under it (a restart, CLIENT KILL, an idle timeout: the second
   * run opens a new one). Not after a timeout: a Redis that does not answer is reported at once.
   * Only for what may run twice: reads, metadata, and writes (idempotent under the monotonic rule).
   */
  async retried<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (this.cluster && isRedirect(e)) await this.refresh();
      else if (!(e instanceof ConnectionClosedError)) throw e;
      return fn();
    }
  }

  /** Reloads the slot map from any node that answers (the configured one first). */
  refresh(): Promise<void> {
    this.refreshing ??= this.loadSlots().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  async close(): Promise<void> {
    for (const n of this.nodes.values()) await Promise.all([n.reads.close(), n.bulk.close()]);
  }

  private async loadSlots(): Promise<void> {
    const seed = this.node(this.options.host, this.options.port);
    const candidates = [seed, ...[...this.nodes.values()].filter((n) => n !== seed)];
    let last: unknown;
    for (const n of candidates) {
      try {
        const reply = (await (await n.reads.get()).command(['CLUSTER', 'SLOTS'])) as Reply[][];
        const slots = new Array<RedisNode>(SLOTS);
        for (const range of reply) {
          const [start, end, primary] = range as [number, number, Reply[]];
          const host = String(primary[0] ?? '');
          const node = this.node(host === '' || host === '?' ? this.options.host : host, Number(primary[1]));
          for (let s = start; s <= end; s++) slots[s] = node;
        }
        this.slots = slots;
        return;
      } catch (e) {
        last = e;
      }
    }
    throw last;
  }

  private node(host: string, port: number): RedisNode {
    const address = `${host}:${port}`;
    let n = this.nodes.get(address);
    if (!n) {
      const options = { ...this.options, host, port, db: this.cluster ? 0 : this.options.db };
      n = {
        address,
        reads: new Reconnecting(() => RespConnection.connect(options)),
        bulk: new Reconnecting(async () => {
          const conn = await RespConnection.connect(options);
          await this.prepareBulk(conn).catch((e) => {
            conn.close();
            throw e;
          });
          return conn;
        }),
      };
      this.nodes.set(address, n);
    }
    return n;
  }
}

export function isRedirect(e: unknown): boolean {
  return e instanceof ReplyError && /^(MOVED|ASK) /.test(e.message);
}
