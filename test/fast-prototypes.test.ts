/**
 * src/fast-prototypes.ts: after ioredis and nunjucks subclass String, String.prototype is in
 * dictionary mode (V8 cannot inline string method lookups); restoreFastPrototypes() turns it, and
 * the other primitive prototypes, back to fast mode. Checked in a child process with V8's own
 * %HasFastProperties, which only --allow-natives-syntax exposes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from './helpers/project.js';

test('string and number prototypes are fast again after the dependencies that subclass them load', () => {
  const module = pathToFileURL(join(REPO_ROOT, 'dist', 'src', 'fast-prototypes.js')).href;
  const script = `
    import 'ioredis';
    import 'nunjucks';
    const { restoreFastPrototypes } = await import(${JSON.stringify(module)});
    const fast = () => [String, Number, Boolean, BigInt].map((c) => %HasFastProperties(c.prototype));
    const before = fast();
    restoreFastPrototypes();
    console.log(JSON.stringify({ before, after: fast() }));
  `;
  const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', script], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const { before, after } = JSON.parse(r.stdout) as { before: boolean[]; after: boolean[] };
  assert.equal(before[0], false, 'ioredis no longer leaves String.prototype in dictionary mode: fast-prototypes.ts may be unnecessary');
  assert.deepEqual(after, [true, true, true, true]);
});
