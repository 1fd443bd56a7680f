/**
 * Logs a script can use: with --log-format json every line on stderr is one JSON object (the
 * summary and top-level errors included); --debug logs each SQL statement sent, with its duration.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MINI_VIEW, mini } from './helpers/mini.js';
import { fsql, makeProject } from './helpers/project.js';

const jsonLines = (text: string) => text.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);

test('--log-format json: every line is a JSON object, the summary and errors with their figures', () => {
  const dir = makeProject(mini({ 'models/other.sql': MINI_VIEW.replace(/spend_1d/g, 'other_1d').replace('sum(amount)', 'sum(no_such_column)') }));
  const r = fsql(['--project-dir', dir, '--log-format', 'json', 'run']);
  assert.equal(r.code, 1);
  const lines = jsonLines(r.stderr);
  const last = lines[lines.length - 1];
  assert.equal(last.level, 'error');
  assert.match(String(last.msg), /PASS=1 ERROR=1 SKIP=0 TOTAL=2/);
  assert.deepEqual([last.pass, last.error, last.total], [1, 1, 2]);
  assert.ok(lines.some((l) => l.level === 'error' && /FAIL other: models\/other\.sql:5: DuckDB cannot bind/.test(String(l.msg))));

  const bad = fsql(['--project-dir', dir, '--log-format', 'json', 'compile', '--select', 'nope']);
  assert.equal(bad.code, 1);
  const [err] = jsonLines(bad.stderr).filter((l) => l.level === 'error');
  assert.ok(err, bad.stderr);
});

test('--debug logs each statement sent to the warehouse with its duration', () => {
  const dir = makeProject(mini());
  const r = fsql(['--project-dir', dir, '--debug', '--log-format', 'json', 'run']);
  assert.equal(r.code, 0, r.stderr);
  const statements = jsonLines(r.stderr).filter((l) => l.level === 'debug');
  const build = statements.find((l) => /create or replace table "main"\."spend" as/.test(String(l.sql)));
  assert.ok(build, JSON.stringify(statements.map((s) => s.sql)));
  assert.equal(build!.label, 'models/spend.sql');
  assert.equal(typeof build!.duration_ms, 'number');
  const plain = fsql(['--project-dir', dir, 'run']);
  assert.doesNotMatch(plain.stderr, /debug: SQL/);
});
