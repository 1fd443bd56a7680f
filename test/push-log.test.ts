/**
 * Push ids (serving/push-log.ts) sort in push order: `fsql run` keeps the last push of a row pushed
 * more than once by the greatest id (dialects/logged.ts renderMergePushed). Here two push logs of
 * one process (two servers), a repeated time, and a clock that steps back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PushLog } from '../src/serving/push-log.js';
import type { ViewLayout } from '../src/online/store.js';
import { PUSHED_FOLDER } from '../src/feature-log/segment.js';
import { Timestamp } from '../src/values.js';

const LAYOUT: ViewLayout = { view: 'v', joinKeys: [{ name: 'k', type: { type: 'string' } }], features: [{ name: 'x', type: { type: 'int64' } }], ttlSeconds: 0 };

test('push ids sort in push order across push logs, at one time and when the clock steps back', async () => {
  const folders = [mkdtempSync(join(tmpdir(), 'fsql-push-')), mkdtempSync(join(tmpdir(), 'fsql-push-'))];
  const logs = folders.map((f) => new PushLog(f));
  const t = Timestamp.parse('2024-05-01T00:00:00Z')!;
  const times = [t, t, new Timestamp(t.micros - 5_000_000n), new Timestamp(t.micros + 1n), t];
  // the second log pushes first: each log's own count would put its pushes side by side
  const which = [1, 1, 0, 0, 1];
  for (const [n, at] of times.entries()) {
    const log = logs[which[n]];
    await log.append(LAYOUT, undefined, [{ key: ['a'], ts: t, values: { x: BigInt(n) } }], at);
  }
  for (const log of logs) await log.close();
  const dirs = folders.map((f) => join(f, PUSHED_FOLDER, 'v'));
  const pushed = dirs
    .flatMap((dir) => readdirSync(dir).flatMap((f) => readFileSync(join(dir, f), 'utf8').trim().split('\n')))
    .map((line) => JSON.parse(line) as { id?: string; v?: number[] })
    .filter((x) => x.id !== undefined);
  const inIdOrder = [...pushed].sort((a, b) => (a.id! < b.id! ? -1 : a.id! > b.id! ? 1 : 0)).map((x) => Number(x.v![0]));
  assert.equal(new Set(pushed.map((x) => x.id)).size, times.length, 'every push its own id');
  assert.deepEqual(inIdOrder, times.map((_t, n) => n));
});
