/**
 * API keys for `serve --auth`. A key is 32 random bytes (base64url) behind an `fsql_` prefix,
 * shown once when created; the online store keeps only its sha256 and a separate random id, so
 * neither the store nor `api-key list` can give a key back. Keys are never logged.
 */
import { createHash, randomBytes } from 'node:crypto';
import { RequestError } from '../errors.js';
import type { ApiKeyRecord, OnlineStore } from '../online/store.js';
import { GRPC } from './request.js';

export const KEY_PREFIX = 'fsql_';

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export interface NewApiKey {
  key: string;
  record: ApiKeyRecord;
}

export function newApiKey(description: string, services: string[], now = new Date()): NewApiKey {
  const key = KEY_PREFIX + randomBytes(32).toString('base64url');
  return {
    key,
    record: { id: randomBytes(6).toString('hex'), hash: hashApiKey(key), description, services: [...services], createdAt: now.toISOString(), revoked: false },
  };
}

/** The key of an `Authorization: Tecton-key <key>` or `Authorization: Bearer <key>` header. */
export function keyFromHeader(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^\s*(?:tecton-key|bearer)\s+(\S{1,512})\s*$/i.exec(header);
  return m ? m[1] : undefined;
}

export function unauthenticated(message: string): RequestError {
  return new RequestError(401, GRPC.UNAUTHENTICATED, message);
}

export function forbidden(message: string): RequestError {
  return new RequestError(403, GRPC.PERMISSION_DENIED, message);
}

/** What a request may read once its key is checked. */
export interface Principal {
  keyId: string;
  /** empty: every service */
  services: ReadonlySet<string>;
}

export const ANONYMOUS: Principal = { keyId: '', services: new Set() };

export function mayRead(p: Principal, service: string): boolean {
  return p.services.size === 0 || p.services.has(service);
}

/**
 * Checks keys against the store. Lookups are cached for `cacheMs` (hits and misses alike, at most
 * `maxEntries` keys), so a revoked key stops working within that time and a flood of random keys
 * cannot turn into a flood of store reads.
 */
export class Authenticator {
  private cache = new Map<string, { principal: Principal | undefined; until: number }>();

  constructor(
    private readonly store: OnlineStore,
    private readonly cacheMs = 5000,
    /** the server's clock, in Unix milliseconds */
    private readonly nowMs: () => number = Date.now,
    private readonly maxEntries = 10000,
  ) {}

  async authenticate(header: string | undefined): Promise<Principal> {
    const key = keyFromHeader(header);
    if (key === undefined) {
      throw unauthenticated(header ? 'the Authorization header is malformed; send "Authorization: Tecton-key <key>" or "Authorization: Bearer <key>".' : 'this server requires an API key; send "Authorization: Tecton-key <key>" or "Authorization: Bearer <key>" (create one with fsql api-key create).');
    }
    const hash = hashApiKey(key);
    const now = this.nowMs();
    let hit = this.cache.get(hash);
    if (!hit || hit.until < now) {
      const record = await this.store.findApiKeyByHash(hash);
      const principal = record && !record.revoked ? { keyId: record.id, services: new Set(record.services) } : undefined;
      if (this.cache.size >= this.maxEntries) this.cache.clear();
      hit = { principal, until: now + this.cacheMs };
      this.cache.set(hash, hit);
    }
    if (!hit.principal) throw unauthenticated('the API key is not valid (unknown or revoked).');
    return hit.principal;
  }
}
