/**
 * rediss:// against a real redis-server that speaks TLS only and requires client certificates
 * (made here with openssl): the CA file and the client certificate and key from the URL
 * (redis-py's ssl_ca_certs, ssl_certfile, ssl_keyfile) are what let fsql in.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { OnlineStoreError } from '../src/errors.js';
import { openStore } from '../src/online/open.js';
import type { ViewLayout } from '../src/online/store.js';
import { Timestamp } from '../src/values.js';
import { makeCerts, type TestCerts } from './helpers/certs.js';
import { startRedis, type RedisServer } from './helpers/redis.js';

const NS = { project: 'p', target: 'tls' };
const LAYOUT: ViewLayout = { view: 'v', joinKeys: [{ name: 'id', type: { type: 'string' } }], features: [{ name: 'x', type: { type: 'int64' } }] };

let certs: TestCerts;
let redis: RedisServer;

before(async () => {
  certs = makeCerts();
  redis = await startRedis([], { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca });
});

after(async () => {
  await redis?.stop();
});

const open = (query: string) => openStore({ type: 'redis', url: `${redis.url}${query}` }, NS, { commandTimeoutMs: 2000, connectTimeoutMs: 2000 });

test('rediss:// with the CA and a client certificate: writes, reads and metadata over TLS', { timeout: 60_000 }, async () => {
  const store = await open(`?ssl_ca_certs=${certs.ca}&ssl_certfile=${certs.clientCert}&ssl_keyfile=${certs.clientKey}`);
  try {
    await store.putLayout(LAYOUT);
    const ts = Timestamp.fromMillis(Date.now());
    assert.deepEqual(await store.write(LAYOUT, [{ key: ['a'], ts, values: { x: 42n } }]), { written: 1, stale: 0 });
    const [row] = await store.read([{ layout: LAYOUT, key: ['a'] }]);
    assert.equal(row?.values.x, 42n);
    assert.deepEqual((await store.getLayouts()).map((l) => l.view), ['v']);
  } finally {
    await store.close();
  }
});

test('rediss:// without the client certificate, or without the CA: OnlineStoreError, no hang', { timeout: 60_000 }, async () => {
  for (const [query, why] of [
    [`?ssl_ca_certs=${certs.ca}`, /cannot reach Redis|Redis at/],
    [`?ssl_certfile=${certs.clientCert}&ssl_keyfile=${certs.clientKey}`, /self.signed|unable to (get|verify)|certificate/i],
  ] as const) {
    const store = await open(query);
    try {
      await assert.rejects(() => store.ping(), (e: Error) => e instanceof OnlineStoreError && why.test(e.message), query);
    } finally {
      await store.close();
    }
  }
});

test('TLS settings that cannot work are refused when the store is opened', async () => {
  await assert.rejects(() => openStore({ type: 'redis', url: `redis://127.0.0.1:1?ssl_ca_certs=${certs.ca}` }, NS), /need a rediss:\/\/ url/);
  await assert.rejects(() => openStore({ type: 'redis', url: `rediss://127.0.0.1:1?ssl_certfile=${certs.clientCert}` }, NS), /both ssl_certfile and ssl_keyfile/);
  await assert.rejects(() => openStore({ type: 'redis', url: 'rediss://127.0.0.1:1?ssl_ca_certs=/nonexistent/ca.pem' }, NS), /cannot read ssl_ca_certs file \/nonexistent\/ca.pem/);
  await assert.rejects(() => openStore({ type: 'redis', url: 'redis://127.0.0.1:1?timeout=3' }, NS), /unknown parameter 'timeout'/);
});
