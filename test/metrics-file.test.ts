/**
 * `run --metrics-file` and `sync --metrics-file`: Prometheus' text format, read back with a
 * Prometheus text-format parser (not regular expressions): the names, types and labels the README's
 * alert rules use; a failed view keeps its last success time and counts a failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { MINI_VIEW, mini } from './helpers/mini.js';
import { fsql, makeProject } from './helpers/project.js';

function families(path: string): Map<string, { type: string; samples: Map<string, number> }> {
  return new Map(
    parsePrometheusTextFormat(readFileSync(path, 'utf8')).map((f) => [f.name, { type: f.type, samples: new Map(f.metrics.map((m) => [m.labels?.view ?? '', Number(m.value)])) }]),
  );
}

test('run --metrics-file: per view the last success, duration, success and failures; a failure keeps the last success', () => {
  const dir = makeProject(mini({ 'models/other.sql': MINI_VIEW.replace(/spend_1d/g, 'other_1d') }));
  const file = join(dir, 'run.prom');
  const t0 = Date.now() / 1000;
  assert.equal(fsql(['--project-dir', dir, 'run', '--metrics-file', file]).code, 0);
  const first = families(file);
  assert.equal(first.get('fsql_run_success')!.type, 'GAUGE');
  assert.deepEqual([...first.get('fsql_run_success')!.samples], [['other', 1], ['spend', 1]]);
  const success = first.get('fsql_run_last_success_timestamp_seconds')!.samples.get('other')!;
  assert.ok(success >= Math.floor(t0) && success <= Date.now() / 1000 + 1);
  assert.ok(first.get('fsql_run_duration_seconds')!.samples.get('spend')! >= 0);
  assert.equal(first.get('fsql_run_failures_total')!.type, 'COUNTER');

  writeFileSync(join(dir, 'models', 'other.sql'), MINI_VIEW.replace(/spend_1d/g, 'other_1d').replace('sum(amount)', 'sum(nope)'));
  assert.equal(fsql(['--project-dir', dir, 'run', '--metrics-file', file]).code, 1);
  const second = families(file);
  assert.equal(second.get('fsql_run_success')!.samples.get('other'), 0);
  assert.equal(second.get('fsql_run_last_success_timestamp_seconds')!.samples.get('other'), success, 'a failed run keeps the last success');
  assert.equal(second.get('fsql_run_failures_total')!.samples.get('other'), 1);
  assert.equal(second.get('fsql_run_failures_total')!.samples.get('spend'), 0);
});

test('sync --metrics-file: the SPEC names per view (last success, duration, rows, failures)', () => {
  const dir = makeProject(mini({ 'data/payments.csv': `user_id,amount,ts\nu1,10,${new Date(Date.now() - 3600_000).toISOString().replace('T', ' ').slice(0, 19)}\n` }));
  assert.equal(fsql(['--project-dir', dir, 'run']).code, 0);
  const file = join(dir, 'sync.prom');
  const r = fsql(['--project-dir', dir, 'sync', '--metrics-file', file]);
  assert.equal(r.code, 0, r.stderr);
  const f = families(file);
  assert.deepEqual([...f.keys()].sort(), ['fsql_sync_duration_seconds', 'fsql_sync_failures_total', 'fsql_sync_last_success_timestamp_seconds', 'fsql_sync_rows']);
  assert.equal(f.get('fsql_sync_rows')!.samples.get('spend'), 1);
  assert.equal(f.get('fsql_sync_failures_total')!.samples.get('spend'), 0);
});
