/**
 * One RESP connection (online/redis/connection.ts) against a real redis-server: commands given as
 * strings keep any text exactly (printable ASCII as it is, the rest as UTF-8), and what is sent in
 * one turn of the event loop, commands and a large pre-encoded payload alike, is answered in order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RespConnection } from '../src/online/redis/connection.js';
import { parseRedisUrl } from '../src/online/redis/options.js';
import { startRedis } from './helpers/redis.js';

test('commands keep any text and their order, beside a payload too large to copy into the turn\'s write', async () => {
  const redis = await startRedis();
  const conn = await RespConnection.connect(parseRedisUrl(redis.url));
  try {
    const odd = ['plain', 'ü ✓ \u{1f600}', 'line\r\nbreak\u0001', '', 'x'.repeat(70_000)];
    const big = 'y'.repeat(100_000);
    const encoded = Buffer.from(`*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$${big.length}\r\n${big}\r\n`, 'latin1');
    // all sent in one turn: commands, the large payload (written as it is), commands again
    const first = conn.sendCommands(odd.map((v, i) => ['SET', `k${i}`, v]));
    const middle = conn.send(encoded, 1);
    const last = conn.sendCommands([...odd.map((_v, i) => ['GET', `k${i}`]), ['GET', 'big']]);
    assert.deepEqual(await first, odd.map(() => 'OK'));
    assert.deepEqual(await middle, ['OK']);
    assert.deepEqual(await last, [...odd, big]);
  } finally {
    conn.close();
    await redis.stop();
  }
});
