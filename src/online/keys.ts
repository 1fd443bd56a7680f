/**
 * How online rows are addressed. Every name and value is escaped before it joins a key, so
 * separators inside values can never make two different rows share a key (Feast built row ids
 * without a delimiter), and keys of different projects and targets never collide.
 *
 * Redis keys (one string key per (view, entity), so a TTL belongs to one view's value):
 *   fsql:<project>:<target>:r:<view>:{<entity>}   a row; the entity is the hash tag, so in a
 *                                                  Redis Cluster every view of an entity shares a slot
 *   fsql:<project>:<target>:r:<view>:{<entity>}:p:<layout fingerprint>
 *                                                  an aggregate view's events pushed to the entity
 *                                                  (online/aggregate/pushed.ts), in its row's slot
 *   fsql:<project>:<target>:layouts               hash view -> ViewLayout JSON
 *   fsql:<project>:<target>:watermarks            hash view -> microseconds since the epoch
 *   fsql:<project>:<target>:syncstats             hash <view>:runs / <view>:rows -> counts
 *   fsql:<project>:<target>:apikeys               hash key hash -> ApiKeyRecord JSON
 */
import type { DataType } from '../values.js';
import { coerceValue } from './codec.js';
import type { ViewLayout } from './store.js';

export interface Namespace {
  project: string;
  target: string;
}

const PLAIN = /^[A-Za-z0-9_.-]*$/;

/** Percent-encodes every character outside [A-Za-z0-9_.-] (so no ':', '{', '}', ',', '=', glob characters). */
export function escapePart(text: string): string {
  if (PLAIN.test(text)) return text;
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += byte < 0x80 && /[A-Za-z0-9_.-]/.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The canonical text of one join key value of a given type; undefined for NULL (a NULL key matches nothing). */
export function keyText(type: DataType, value: unknown, what: string): string | undefined {
  const v = coerceValue(type, value, what);
  if (v === null) return undefined;
  if (typeof v === 'object' && 'micros' in v) return String(v.micros);
  if (Array.isArray(v)) return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
  return String(v);
}

/**
 * The entity part of a row's address: `name=value` per join key, in the layout's order.
 * Undefined when a key value is NULL.
 */
export function entityId(layout: Pick<ViewLayout, 'joinKeys' | 'view'>, key: readonly unknown[]): string | undefined {
  const rest = entityAfterName(layout, key);
  return rest === undefined ? undefined : entityPrefix(layout) + rest;
}

/** What an entity id holds before entityAfterName(): the first join key's escaped name and '='. */
export function entityPrefix(layout: Pick<ViewLayout, 'joinKeys'>): string {
  return `${escapedName(layout.joinKeys[0].name)}=`;
}

/**
 * The entity id after its first `name=`: what varies from row to row, so the bulk writer can copy
 * the rest once per view (RedisKeys.rowHead). For one string key it is the key value itself.
 */
export function entityAfterName(layout: Pick<ViewLayout, 'joinKeys' | 'view'>, key: readonly unknown[]): string | undefined {
  const keys = layout.joinKeys;
  if (key.length !== keys.length) {
    throw new TypeError(`view '${layout.view}' has join keys ${keys.map((k) => k.name).join(', ')}; got ${key.length} value(s)`);
  }
  // The common case, one string key: no coercion, and the escape check only.
  if (keys.length === 1 && keys[0].type.type === 'string' && typeof key[0] === 'string') return escapePart(key[0]);
  let out = '';
  for (let i = 0; i < keys.length; i++) {
    const text = keyText(keys[i].type, key[i], `join key '${keys[i].name}' of view '${layout.view}'`);
    if (text === undefined) return undefined;
    out += i > 0 ? `,${escapedName(keys[i].name)}=${escapePart(text)}` : escapePart(text);
  }
  return out;
}

const escapedNames = new Map<string, string>();

function escapedName(name: string): string {
  let e = escapedNames.get(name);
  if (e === undefined) {
    e = escapePart(name);
    escapedNames.set(name, e);
  }
  return e;
}

export class RedisKeys {
  readonly prefix: string;
  private readonly heads = new Map<string, Buffer>();

  constructor(ns: Namespace) {
    this.prefix = `fsql:${escapePart(ns.project)}:${escapePart(ns.target)}:`;
  }

  viewPrefix(view: string): string {
    return `${this.prefix}r:${escapePart(view)}:`;
  }

  row(view: string, entity: string): string {
    return `${this.viewPrefix(view)}{${entity}}`;
  }

  /** An aggregate view's pushed-event log of an entity, for one layout (another layout's events cannot be read with it). */
  pushed(view: string, entity: string, fingerprint: string): string {
    return `${this.row(view, entity)}:p:${fingerprint}`;
  }

  /** A row key's bytes before entityAfterName(): the key is these, that, then '}'. */
  rowHead(layout: Pick<ViewLayout, 'joinKeys' | 'view'>): Buffer {
    let head = this.heads.get(layout.view);
    if (!head) {
      head = Buffer.from(`${this.viewPrefix(layout.view)}{${entityPrefix(layout)}`, 'latin1');
      this.heads.set(layout.view, head);
    }
    return head;
  }

  /** A SCAN MATCH pattern for every key of a view, its rows and pushed events (the parts are escaped, so no glob characters). */
  viewPattern(view: string): string {
    return `${this.viewPrefix(view)}*`;
  }

  get layouts(): string {
    return `${this.prefix}layouts`;
  }

  get watermarks(): string {
    return `${this.prefix}watermarks`;
  }

  get syncStats(): string {
    return `${this.prefix}syncstats`;
  }

  get apiKeys(): string {
    return `${this.prefix}apikeys`;
  }
}

/** The Redis Cluster hash slot of a key (CRC16/XMODEM of the hash tag, or of the key), 0..16383. */
export function hashSlot(key: string): number {
  let s = key;
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) s = key.slice(open + 1, close);
  }
  const bytes = Buffer.from(s, 'utf8');
  return crc16(bytes, 0, bytes.length) & 16383;
}

/** CRC16/XMODEM of bytes [start, end), continuing from `crc` (the CRC of what precedes them). */
export function crc16(bytes: Uint8Array, start: number, end: number, crc = 0): number {
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ bytes[i]) & 0xff];
  return crc;
}

const CRC16_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let j = 0; j < 8; j++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    table[i] = c;
  }
  return table;
})();
