/**
 * `fsql docs generate` / `fsql docs serve` (SPEC section 13) in a real browser (Debian's chromium
 * driven by playwright-core): the example project and a generated 1,000-view project load with no
 * console errors, the search finds a feature, a view shows its SQL and its lineage, the site
 * works from file:// with every network request refused, and the server serves nothing outside
 * target/docs/. Screenshots are kept in test-artifacts/.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ARTIFACTS, launchChromium } from './helpers/browser.js';
import { startDocsServer, type DocsServer } from './helpers/docs-serve.js';
import { manyViewsProject } from './helpers/many-views.js';
import { copyExample, fsql, makeProject } from './helpers/project.js';
import { aggregateView, mini } from './helpers/mini.js';
import type { Catalog } from '../src/docs/catalog.js';
import { loadProject } from '../src/project/load.js';
import { openWarehouse } from '../src/warehouse/index.js';

const PG_PASSWORD = 'pg-Secret-7d1f2e'; // the example's pg output reads FSQL_PG_PASSWORD
const READY_LIMIT_MS = 2000;

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

/** A new page that records console errors and uncaught exceptions. */
async function openPage(): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 950 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return { page, errors };
}

/** Types `query` in the search box and returns the results' first lines (the names). */
async function searchFor(page: Page, query: string): Promise<string[]> {
  await page.fill('#search', query);
  await page.waitForSelector('#results:not([hidden]) li');
  return page.$$eval('#results li', (lis) => lis.map((li) => li.firstChild?.textContent ?? ''));
}

function rawGet(base: string, path: string): Promise<{ status: number; body: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function generate(dir: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): { stdout: string; stderr: string } {
  const r = fsql(['--project-dir', dir, 'docs', 'generate', ...extra], { env });
  assert.equal(r.code, 0, r.stderr);
  return r;
}

test('the example project: search, a view with its SQL per target and lineage, freshness, no console errors, nothing served outside target/docs', async () => {
  const dir = copyExample();
  assert.equal(fsql(['--project-dir', dir, 'run']).code, 0);
  const g = generate(dir, [], { FSQL_PG_PASSWORD: PG_PASSWORD });
  assert.equal(g.stdout.trim(), join(dir, 'target', 'docs', 'index.html'));
  // fsql run recorded each table view's statistics (SPEC section 11): the site shows the newest
  assert.doesNotMatch(g.stderr, /No feature statistics/);
  const risk = readCatalog(dir).views.find((v) => v.name === 'merchant_risk')!.features.find((f) => f.name === 'risk_score')!;
  assert.ok(risk.stats && Number(risk.stats.row_count) > 0 && typeof risk.stats.p50 === 'number', JSON.stringify(risk.stats));
  assert.match(g.stderr, /SQL for dev, prod, sf, pg/);
  for (const f of readdirSync(join(dir, 'target', 'docs', 'assets'))) {
    assert.ok(!readFileSync(join(dir, 'target', 'docs', 'assets', f), 'utf8').includes(PG_PASSWORD), `${f} holds the profile's password`);
  }

  const server: DocsServer = await startDocsServer(dir);
  try {
    const { page, errors } = await openPage();
    await page.goto(`${server.url}/`);
    await page.waitForSelector('body[data-ready]');
    assert.match((await page.textContent('main'))!, /fraud_features[\s\S]*feature views/);

    // the search finds a feature and opens its view with the feature's row marked
    const names = await searchFor(page, 'spend_7d');
    assert.equal(names[0], 'spend_7d');
    await page.keyboard.press('Enter');
    await page.waitForSelector('tr.highlight #feature-spend_7d');
    assert.equal(await page.textContent('main h1'), 'user_transaction_stats');

    // clicking a view in the navigation shows its SQL (every target) and its lineage
    await page.click('nav a[href="#view:merchant_risk"]');
    await page.waitForFunction(() => document.querySelector('main h1')?.textContent === 'merchant_risk');
    await page.waitForSelector('#graph[data-nodes] canvas');
    const lineage = (await page.getAttribute('#graph', 'data-nodes'))!.split(' ');
    for (const n of ['raw.transactions', 'merchant_risk', 'fraud_detection', 'fraud_scoring']) assert.ok(lineage.includes(n), `lineage lacks ${n}: ${lineage}`);
    assert.deepEqual(await page.$$eval('.tabs button', (bs) => bs.map((b) => b.textContent)), ['dev', 'prod', 'sf', 'pg']);
    assert.match((await page.textContent('main pre'))!, /select[\s\S]*from read_csv/i);
    await page.click('.tabs button:text("prod")');
    assert.match((await page.textContent('main pre'))!, /`acme-ml`|acme-ml/);
    // freshness and the last run are shown (the example's data is from 2024: past its TTL)
    assert.match((await page.textContent('main'))!, /last run: success[\s\S]*freshness: error/);
    await page.screenshot({ path: join(ARTIFACTS, 'docs-example.png') });
    await page.locator('#graph').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, 'docs-example-lineage-sql.png') });

    // a node of the graph leads to its page
    await page.goto(`${server.url}/#source:raw.transactions`);
    await page.waitForFunction(() => document.querySelector('main h1')?.textContent === 'raw.transactions');
    assert.deepEqual(errors, []);
    await page.close();

    // the server: files under target/docs only
    assert.equal((await rawGet(server.url, '/assets/app.js')).status, 200);
    for (const path of ['/../profiles.yml', '/assets/../../profiles.yml', '/%2e%2e/profiles.yml', '/..%2f..%2fprofiles.yml', '/nope.html', '/assets/%00']) {
      const r = await rawGet(server.url, path);
      assert.equal(r.status, 404, path);
      assert.equal(JSON.parse(r.body).error.startsWith('not found'), true);
    }
    assert.equal((await rawGet(server.url, '/')).status, 200);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('the site works from file:// with every network request refused', async () => {
  const dir = copyExample();
  generate(dir, ['--no-warehouse']);
  const { page, errors } = await openPage();
  const outside: string[] = [];
  await page.route('**/*', (route) => {
    if (route.request().url().startsWith('file://')) return route.continue();
    outside.push(route.request().url());
    return route.abort();
  });
  await page.goto(`file://${join(dir, 'target', 'docs', 'index.html')}#view:user_merchant_pair`);
  await page.waitForSelector('#graph[data-nodes] canvas');
  assert.equal((await searchFor(page, 'chargeback'))[0], 'chargeback_rate');
  assert.deepEqual(outside, []);
  assert.deepEqual(errors, []);
  await page.close();
});

test('1,000 views: usable within 2 s, the search finds a feature, a view shows its SQL and lineage', async () => {
  const dir = manyViewsProject(1000);
  const t0 = Date.now();
  generate(dir);
  const generateMs = Date.now() - t0;
  const server = await startDocsServer(dir);
  try {
    const { page, errors } = await openPage();
    const start = Date.now();
    await page.goto(`${server.url}/`);
    await page.waitForSelector('body[data-ready]');
    const hits = await searchFor(page, 'metric_737_max');
    const readyMs = Date.now() - start;
    assert.equal(hits[0], 'metric_737_max');
    const inPage = await page.evaluate(() => performance.now());
    console.log(`# 1,000 views: docs generate ${generateMs} ms; page loaded and searched in ${readyMs} ms (page clock ${Math.round(inPage)} ms)`);
    assert.ok(readyMs < READY_LIMIT_MS, `page usable after ${readyMs} ms`);

    await page.keyboard.press('Enter');
    await page.waitForSelector('tr.highlight #feature-metric_737_max');
    assert.equal(await page.textContent('main h1'), 'view_0737');
    // a view that reads another: its lineage runs from the source through the view before it to its service
    const t1 = Date.now();
    await page.click('nav a[href="#view:view_0739"]');
    await page.waitForSelector('#graph[data-nodes] canvas');
    const viewMs = Date.now() - t1;
    const lineage = (await page.getAttribute('#graph', 'data-nodes'))!.split(' ');
    for (const n of ['raw.events', 'view_0738', 'view_0739', 'service_14']) assert.ok(lineage.includes(n), `lineage lacks ${n}`);
    assert.match((await page.textContent('main pre'))!, /from "main"\."view_0738"|view_0738/);
    console.log(`# 1,000 views: a view's page with its graph in ${viewMs} ms`);
    assert.ok(viewMs < READY_LIMIT_MS, `view page after ${viewMs} ms`);
    await page.screenshot({ path: join(ARTIFACTS, 'docs-1000-views.png') });
    assert.deepEqual(errors, []);
    await page.close();
  } finally {
    await server.stop();
  }
});

/** The catalog a generated site holds (assets/catalog.js). */
function readCatalog(dir: string): Catalog {
  const text = readFileSync(join(dir, 'target', 'docs', 'assets', 'catalog.js'), 'utf8');
  return JSON.parse(JSON.parse(/JSON\.parse\((.*)\);\n$/s.exec(text)![1])) as Catalog;
}

/** The statistics table as SPEC section 11 describes it, with rows (view, feature, recorded_at, mean, p50). */
async function writeStats(dir: string, rows: [string, string, string, number, number][]): Promise<void> {
  const wh = await openWarehouse(loadProject({ projectDir: dir }));
  try {
    const values = rows.map(([view, feature, at, mean, p50], i) =>
      `('${view}', '${feature}', 'run-${i}', timestamp '2024-04-01', timestamp '2024-04-30', timestamp '${at}', ${1000 + i}, 0.25, ${mean}, 2.0, 0.0, 100.0, 1.0, 5.0, 10.0, ${p50}, 30.0, 60.0, 90.0, ${50 + i})`);
    await wh.execute(`create table fsql_feature_stats as select * from (values ${values.join(', ')}) as t(view_name, feature, run_id, range_start, range_end, recorded_at, row_count, null_fraction, mean, stddev, min, max, p01, p05, p25, p50, p75, p95, p99, approx_distinct)`);
  } finally {
    await wh.close();
  }
}

test('no statistics yet: the site says so; then the newest row per (view, feature) is shown, with its box plot', async () => {
  const bare = copyExample();
  assert.match(generate(bare).stderr, /No feature statistics: table fsql_feature_stats is not in target 'dev'/);
  const dir = copyExample();
  await writeStats(dir, [
    ['user_transaction_stats', 'spend_7d', '2024-04-29 00:00:00', 11.5, 20],
    ['user_transaction_stats', 'spend_7d', '2024-04-30 00:00:00', 42.5, 21],
    ['merchant_risk', 'risk_score', '2024-04-30 00:00:00', 0.5, 0.4],
  ]);
  const g = generate(dir);
  assert.doesNotMatch(g.stderr, /No feature statistics/);
  const catalog = readCatalog(dir);
  const spend = catalog.views.find((v) => v.name === 'user_transaction_stats')!.features.find((f) => f.name === 'spend_7d')!;
  assert.equal(spend.stats!.mean, 42.5);
  assert.equal(spend.stats!.row_count, 1001);
  assert.equal(spend.stats!.recorded_at, '2024-04-30T00:00:00Z');

  const { page, errors } = await openPage();
  await page.goto(`file://${join(dir, 'target', 'docs', 'index.html')}#view:user_transaction_stats/spend_7d`);
  await page.waitForSelector('tr.highlight svg.box');
  const row = (await page.textContent('tr.highlight'))!;
  assert.match(row, /spend_7d[\s\S]*25%[\s\S]*42\.5[\s\S]*0 … 100/);
  await page.screenshot({ path: join(ARTIFACTS, 'docs-statistics.png') });
  assert.deepEqual(errors, []);
  await page.close();
});

test('a warehouse that cannot be reached: the site is written without freshness and statistics, and one line says so', () => {
  const dir = copyExample();
  const r = fsql(['--project-dir', dir, '--target', 'pg', 'docs', 'generate'], { env: { FSQL_PG_PORT: '1', FSQL_PG_PASSWORD: PG_PASSWORD } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Warehouse of target 'pg' \(postgres\) not reached, so no freshness or feature statistics: /);
  assert.ok(!r.stderr.includes(PG_PASSWORD));
  assert.ok(existsSync(join(dir, 'target', 'docs', 'index.html')));
});

test("an aggregate view's windows and feature types are in the catalog", () => {
  const dir = makeProject(mini({ 'models/agg.sql': aggregateView("      agg('amount', ['sum', 'max'], windows=['1h', '1d']),\n      agg('*', 'count', windows=['1d']),\n      agg('amount', 'last_n', n=3, windows=['1d'], name='last_3')", "select user_id, ts, amount from {{ source('raw', 'payments') }}") }));
  assert.equal(fsql(['--project-dir', dir, 'run']).code, 0);
  generate(dir, ['--no-warehouse']);
  const agg = readCatalog(dir).views.find((v) => v.name === 'agg')!;
  assert.equal(agg.materialized, 'aggregate');
  assert.deepEqual(agg.features.map((f) => [f.name, f.type, f.aggregation]), [
    ['amount_sum_1h', 'int64', 'sum(amount) over 1h'],
    ['amount_sum_1d', 'int64', 'sum(amount) over 1d'],
    ['amount_max_1h', 'int64', 'max(amount) over 1h'],
    ['amount_max_1d', 'int64', 'max(amount) over 1d'],
    ['count_1d', 'int64', 'count(*) over 1d'],
    ['last_3', 'array<int64>', 'last_n(3)(amount) over 1d'],
  ]);
});

test('docs serve before generate, and a bad port, fail with exit 1 and say what to do; a broken run_results.json is a note', () => {
  const dir = copyExample();
  const r = fsql(['--project-dir', dir, 'docs', 'serve']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no docs site here yet: run fsql docs generate first/);
  mkdirSync(join(dir, 'target'), { recursive: true });
  writeFileSync(join(dir, 'target', 'run_results.json'), '{"results": [');
  assert.match(generate(dir, ['--no-warehouse']).stderr, /run_results\.json is not valid JSON .*: the site shows no run results/);
  assert.ok(existsSync(join(dir, 'target', 'docs', 'assets', 'cytoscape.min.js')));
  const bad = fsql(['--project-dir', dir, 'docs', 'serve', '--port', 'x1']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--port.*not a port number/);
});
