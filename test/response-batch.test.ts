/** serving/response-batch.ts: a turn's answers written together, one failing write answered by its own fail, then the after-hook. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResponseBatch } from '../src/serving/response-batch.js';

test('a turn writes every answer once, a throwing write goes to its fail and the others still run, then the after-hook', async () => {
  const events: string[] = [];
  const batch = new ResponseBatch(() => events.push('after'));
  batch.add(() => events.push('a'), () => events.push('fail a'));
  batch.add(
    () => {
      throw new Error('boom');
    },
    (e) => events.push(`fail b: ${(e as Error).message}`),
  );
  batch.add(() => events.push('c'), () => events.push('fail c'));
  assert.equal(events.length, 0, 'nothing is written before the turn ends');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(events, ['a', 'fail b: boom', 'c', 'after']);
  batch.add(() => events.push('d'), () => events.push('fail d'));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(events.slice(4), ['d', 'after'], 'a later turn is a batch of its own');
});
