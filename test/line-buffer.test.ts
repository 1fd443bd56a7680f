/**
 * feature-log/line-buffer.ts: what bytes() gives is exactly the UTF-8 text pushed, newline-ended,
 * across buffer boundaries, for lines longer than a buffer and characters of 1 to 4 bytes, and
 * again after release() hands the buffers to the next LineBuffer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineBuffer } from '../src/feature-log/line-buffer.js';
import { seededRandom } from '../src/seeded-random.js';

const PIECES = ['{"id":"a","row":', '0.25', '"é"', '"日本"', '"😀"', ',', '"\\u0000"', 'null'];

function randomLines(seed: number, count: number): string[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => {
    let line = '';
    const pieces = Math.floor(random() * 400);
    for (let i = 0; i < pieces; i++) line += PIECES[Math.floor(random() * PIECES.length)];
    return line;
  });
}

function pushAll(lines: string[]): { buffer: LineBuffer; expected: string } {
  const buffer = new LineBuffer();
  const expected: string[] = [];
  for (let i = 0; i < lines.length; ) {
    // one line or several joined: push takes either
    const n = 1 + (i % 5);
    const group = lines.slice(i, i + n).join('\n');
    buffer.push(group);
    expected.push(group);
    i += n;
  }
  return { buffer, expected: `${expected.join('\n')}\n` };
}

test('the bytes are the text pushed, across buffers, for a line longer than a buffer, and after reuse', () => {
  const first = pushAll([...randomLines(1, 3000), 'x'.repeat(3 * 1024 * 1024), ...randomLines(2, 3000)]);
  const bytes = first.buffer.bytes();
  assert.ok(bytes.length > 3, `${bytes.length} buffers`);
  assert.equal(Buffer.concat(bytes).toString('utf8'), first.expected);
  first.buffer.release();
  assert.deepEqual(first.buffer.bytes(), []);

  // the released buffers hold the old bytes: the next text must not show them
  const second = pushAll(randomLines(3, 2000));
  assert.equal(Buffer.concat(second.buffer.bytes()).toString('utf8'), second.expected);
});
