/**
 * Drift monitors (SPEC section 11) at an injected clock: six daily runs make the baseline, then a
 * seventh run is unshifted (every check passes, exit 0) or shifted (amount's mean moved by 4
 * sigma, 20% of qty NULL, category 'c' gone): `fsql monitor` names each breach with its figure
 * and threshold and exits 1, in the table, in JSON and in the metrics file. Two runs are too
 * little baseline: said, not alarmed. Bad monitors: blocks name the file, line and key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { monitorFeatures, type FeatureMonitor } from '../src/offline/monitor.js';
import { fsql } from './helpers/project.js';
import { dayStart, loadDay, runDay, statsProject, withProject, type Shift } from './helpers/stats-project.js';

const PROJECT_FILE = 'name: proj\nmonitors: {null_fraction_max: 0.05, distinct_change_max: 0.1, baseline: 7d}\n';
const VIEW_MONITORS = `feature_views:
  - name: activity
    monitors: {mean_shift_max_sigma: 3}
    columns:
      - name: amount
        monitors: {psi_max: 0.25}
`;

/** Days 0 .. days-1 normal, each run the next midnight; then, with `last`, one more day so shifted. */
async function history(days: number, last?: Shift): Promise<string> {
  const dir = statsProject({ 'fsql_project.yml': PROJECT_FILE }, VIEW_MONITORS);
  await withProject(dir, async (project, wh) => {
    const total = last ? days + 1 : days;
    for (let day = 0; day < total; day++) {
      await loadDay(wh, day, 100 + day, 2000, day === days ? last : {});
      await runDay(project, wh, day, dayStart(day + 1).plusSeconds(600));
    }
  });
  return dir;
}

async function monitor(dir: string): Promise<Map<string, FeatureMonitor>> {
  const report = await withProject(dir, (project, wh) => monitorFeatures(project, wh));
  return new Map(report.features.map((f) => [f.feature, f]));
}

test('an unshifted run passes every check; the monitors merge column over view over project', async () => {
  const dir = await history(6, {});
  const got = await monitor(dir);
  assert.deepEqual([...got.keys()].sort(), ['amount', 'category', 'flag', 'qty']);
  for (const f of got.values()) {
    assert.equal(f.status, 'OK', `${f.feature}: ${JSON.stringify(f.figures)} ${JSON.stringify(f.breaches)}`);
    assert.equal(f.figures.baselineRuns, 6);
  }
  assert.ok(got.get('amount')!.figures.psi! < 0.05 && got.get('amount')!.figures.meanShiftSigma! < 0.5, JSON.stringify(got.get('amount')!.figures));
  assert.deepEqual(got.get('amount')!.settings, { nullFractionMax: 0.05, psiMax: 0.25, meanShiftMaxSigma: 3, distinctChangeMax: 0.1, baselineSeconds: 7 * 86400 });
  assert.equal(got.get('qty')!.settings.psiMax, 0.2);
  assert.equal(got.get('category')!.figures.distinctChange, 0);
  const cli = fsql(['--project-dir', dir, 'monitor']);
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stdout, /^view +feature +baseline +null_fraction +psi +mean_shift_sigma +distinct_change +status/);
});

test('a shifted run: mean moved 4 sigma, 20% NULLs, a category gone; each named with figure and threshold, exit 1', async () => {
  const dir = await history(6, { sigmas: 4, nullFraction: 0.2, drop: 'c' });
  const got = await monitor(dir);
  const checks = (feature: string) => got.get(feature)!.breaches.map((b) => b.check).sort();
  assert.deepEqual(checks('amount'), ['mean_shift_sigma', 'psi']);
  assert.ok(got.get('amount')!.figures.meanShiftSigma! > 3.5, JSON.stringify(got.get('amount')!.figures));
  assert.deepEqual(checks('qty'), ['null_fraction']);
  assert.ok(Math.abs(got.get('qty')!.figures.nullFraction! - 0.2) < 0.03);
  assert.deepEqual(checks('category'), ['distinct_change']);
  assert.equal(got.get('category')!.figures.distinctChange, 0.2);
  assert.deepEqual(checks('flag'), []);

  const metricsFile = join(dir, 'monitor.prom');
  const cli = fsql(['--project-dir', dir, 'monitor', '--metrics-file', metricsFile]);
  assert.equal(cli.code, 1);
  for (const named of [/activity\.amount: mean_shift_sigma \d+\.\d+ > 3/, /activity\.amount: psi \d+\.\d+ > 0\.25/, /activity\.qty: null_fraction 0\.\d+ > 0\.05/, /activity\.category: distinct_change 0\.200 > 0\.1/]) assert.match(cli.stderr, named);
  assert.match(cli.stdout, /activity +amount .*> 0\.25/);

  const json = fsql(['--project-dir', dir, 'monitor', '--output', 'json']);
  assert.equal(json.code, 1);
  const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l));
  const qty = lines.find((l) => l.feature === 'qty');
  assert.equal(qty.status, 'BREACH');
  assert.equal(qty.breaches[0].check, 'null_fraction');
  assert.equal(qty.thresholds.null_fraction_max, 0.05);

  const families = new Map(parsePrometheusTextFormat(readFileSync(metricsFile, 'utf8')).map((f) => [f.name, f]));
  const breach = families.get('fsql_monitor_breach')!.metrics;
  const on = breach.filter((m) => m.value === '1').map((m) => `${m.labels!.view}.${m.labels!.feature}.${m.labels!.check}`).sort();
  assert.deepEqual(on, ['activity.amount.mean_shift_sigma', 'activity.amount.psi', 'activity.category.distinct_change', 'activity.qty.null_fraction']);
  const psi = families.get('fsql_monitor_psi')!.metrics.find((m) => m.labels!.feature === 'amount')!;
  assert.ok(Number(psi.value) > 0.25);
  assert.equal(families.get('fsql_monitor_baseline_runs')!.metrics.length, 4);
  // the README's alert rules read fsql_monitor_breach and this
  const ran = families.get('fsql_monitor_last_run_timestamp_seconds')!;
  assert.equal(ran.type, 'GAUGE');
  assert.ok(Math.abs(Number(ran.metrics[0].value) - Date.now() / 1000) < 600);
  assert.equal(families.get('fsql_monitor_breach')!.type, 'GAUGE');
});

test('two runs are too little baseline: the feature says so instead of alarming', async () => {
  const dir = await history(2, { sigmas: 4 });
  const got = await monitor(dir);
  assert.equal(got.get('amount')!.status, 'NO_BASELINE');
  assert.equal(got.get('amount')!.figures.meanShiftSigma, null);
  const cli = fsql(['--project-dir', dir, 'monitor']);
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stdout, /too little baseline \(2 of 3 runs\)/);
  assert.match(cli.stderr, /too little baseline/);
});

test('bad monitors: blocks name the file, the line and the key', () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ 'fsql_project.yml': 'name: proj\nmonitors: {psi_max: -1}\n' }, /fsql_project\.yml:2.*psi_max must be a positive number/],
    [{ 'fsql_project.yml': 'name: proj\nmonitors:\n  baseline: soon\n' }, /fsql_project\.yml:3.*baseline must be/],
    [{ 'models/more.yml': 'feature_views:\n  - name: activity\n    monitors: {nul_fraction_max: 0.1}\n' }, /models\/more\.yml:3.*unknown key 'nul_fraction_max' in monitors/],
    [{ 'models/more.yml': 'feature_views:\n  - name: activity\n    columns:\n      - name: qty\n        monitors: {null_fraction_max: 2}\n' }, /models\/more\.yml:5.*null_fraction_max must be a fraction from 0 to 1/],
  ];
  for (const [files, message] of cases) {
    const r = fsql(['--project-dir', statsProject(files), 'monitor']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, message);
  }
});

test('before any run, monitor says there are no statistics and exits 0; an unknown --output is an error', () => {
  const dir = statsProject();
  const none = fsql(['--project-dir', dir, 'monitor']);
  assert.equal(none.code, 0, none.stderr);
  assert.match(none.stdout, /no statistics recorded yet/);
  assert.match(none.stderr, /no statistics recorded for activity/);
  const bad = fsql(['--project-dir', dir, 'monitor', '--output', 'xml']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--output.*must be table or json, not 'xml'/);
});
