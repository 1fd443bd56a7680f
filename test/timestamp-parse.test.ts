/**
 * Timestamp.parse's fast path for `YYYY-MM-DDTHH:MM:SS[.fraction]Z` (values.ts parseCanonical)
 * answers exactly as the general path, on random texts of that shape with fields in and out of
 * range (a leading space sends a text down the general path, which trims it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../src/seeded-random.js';
import { Timestamp } from '../src/values.js';

test('Timestamp.parse: the canonical form parsed fast gives what the general path gives', () => {
  const random = seededRandom(11);
  const pick = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const two = (x: number) => String(x).padStart(2, '0');
  let parsed = 0;
  for (let k = 0; k < 20_000; k++) {
    const frac = random() < 0.4 ? '' : `.${String(pick(0, 999_999_999)).padStart(9, '0')}${pick(0, 9)}`.slice(0, pick(1, 11));
    const t = `${String(pick(0, 9999)).padStart(4, '0')}-${two(pick(0, 13))}-${two(pick(0, 32))}T${two(pick(0, 25))}:${two(pick(0, 61))}:${two(pick(0, 61))}${frac}Z`;
    const got = Timestamp.parse(t)?.micros;
    assert.equal(got, Timestamp.parse(` ${t}`)?.micros, t);
    if (got !== undefined) parsed++;
  }
  assert.ok(parsed > 10_000, `${parsed} of 20,000 texts were timestamps`);
  assert.equal(Timestamp.parse('2024-01-31T12:00:00.123456789Z')?.micros, 1706702400123456n);
  assert.equal(Timestamp.parse('2024-01-31T12:00:00.1Z')?.micros, 1706702400100000n);
});
