/**
 * `fsql docs generate`: the catalog site in target/docs/ — index.html, the page's script and
 * style, the vendored graph library (cytoscape, copied from node_modules so the site works
 * offline from file://) and catalog.js, the catalog as data. Every target of the profile is
 * compiled without connecting; the warehouse, when asked and reachable, adds freshness and the
 * newest feature statistics.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderViewSql, type Compilation } from '../compiler/compile.js';
import { renderLatestFeatureStats } from '../dialects/feature-stats.js';
import { statsTableOf } from '../offline/feature-stats.js';
import { STATS_TABLE } from '../plans/feature-stats.js';
import type { Logger } from '../log.js';
import { checkFreshness, type FreshnessReport } from '../offline/freshness.js';
import type { RunResults } from '../offline/run.js';
import { withOnlineStore } from '../online/open.js';
import type { Project } from '../project/types.js';
import { redact } from '../secrets.js';
import { Timestamp, type Value } from '../values.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { buildCatalog, statsKey, type Catalog, type FeatureStats } from './catalog.js';

/** The page's own files, shipped beside dist/ (package.json `files`). */
const SITE_DIR = join(resolve(fileURLToPath(import.meta.url), '../../../..'), 'src', 'docs', 'site');
const SITE_FILES = ['index.html', 'app.js', 'app.css'];
/** How long freshness may wait on the online store before the site goes without it. */
const STORE_TIMEOUT_MS = 2000;

export interface WarehouseFacts {
  freshness?: FreshnessReport;
  stats?: Map<string, FeatureStats>;
  notes: string[];
}

export interface DocsInputs {
  project: Project;
  compilation: Compilation;
  /** every profile output: its project, or why it could not be loaded */
  targets: { name: string; project?: Project; error?: string }[];
  facts: WarehouseFacts;
  log: Logger;
}

/** Freshness and statistics from the target's warehouse; what is missing becomes a note, not an error. */
export async function readWarehouseFacts(project: Project, c: Compilation, wh: Warehouse): Promise<WarehouseFacts> {
  const notes: string[] = [];
  let stats: Map<string, FeatureStats> | undefined;
  const table = statsTableOf(wh, project);
  if (await wh.describe(table)) {
    stats = new Map();
    for (const row of await wh.query(renderLatestFeatureStats(wh.dialect, table), { label: STATS_TABLE })) {
      const { view_name, feature, ...rest } = lowerKeys(row);
      stats.set(statsKey(String(view_name), String(feature)), Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, statValue(v)])));
    }
  } else {
    notes.push(`No feature statistics: table ${STATS_TABLE} is not in target '${project.target.name}' yet (fsql run records them).`);
  }
  let freshness: FreshnessReport | undefined;
  try {
    freshness = await withOnlineStore(project, (store) => checkFreshness(project, wh, store, { compilation: c }), { connectTimeoutMs: STORE_TIMEOUT_MS, commandTimeoutMs: STORE_TIMEOUT_MS });
  } catch (e) {
    notes.push(`No freshness: ${(e as Error).message}`);
  }
  return { freshness, stats, notes };
}

function lowerKeys(row: Record<string, Value>): Record<string, Value> {
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k.toLowerCase(), v]));
}

function statValue(v: Value): number | string | null {
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Timestamp) return v.toISOString();
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  return v === null ? null : String(v);
}

/** The last run's results when they are the target's; an unreadable file is a note, not a failure. */
function readRunResults(project: Project, notes: string[]): RunResults | undefined {
  const file = join(project.targetPath, 'run_results.json');
  if (!existsSync(file)) return undefined;
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as RunResults;
    return r.metadata?.target === project.target.name && Array.isArray(r.results) ? r : undefined;
  } catch (e) {
    notes.push(`${file} is not valid JSON (${(e as Error).message}): the site shows no run results; fsql run writes it anew.`);
    return undefined;
  }
}

/** Renders the other targets' SQL (no connection, as `fsql compile --target X` does) and writes the site; returns the catalog written. */
export async function generateDocs(i: DocsInputs): Promise<{ dir: string; catalog: Catalog }> {
  const { project, compilation: c } = i;
  const sqlByTarget = new Map<string, Map<string, string>>();
  const targets: Catalog['targets'] = [];
  for (const t of i.targets) {
    if (!t.project) {
      targets.push({ name: t.name, type: null, error: t.error });
      continue;
    }
    try {
      sqlByTarget.set(t.name, t.name === project.target.name ? new Map(Object.values(c.manifest.views).map((v) => [v.name, v.compiled_sql])) : renderViewSql(t.project));
      targets.push({ name: t.name, type: t.project.target.type });
    } catch (e) {
      targets.push({ name: t.name, type: t.project.target.type, error: (e as Error).message });
    }
  }
  for (const t of targets) if (t.error) i.log.warn(`docs: no SQL for target '${t.name}': ${t.error}`);
  const notes: string[] = [];
  const run = readRunResults(project, notes);
  if (!run && notes.length === 0) notes.push(`No run results for target '${project.target.name}' yet: fsql run writes them.`);
  notes.push(...i.facts.notes);
  const catalog = buildCatalog({
    project,
    manifest: c.manifest,
    sqlByTarget,
    targets,
    run: run && { generated_at: run.metadata.generated_at, results: run.results },
    freshness: i.facts.freshness,
    stats: i.facts.stats,
    notes,
  });
  const dir = join(project.targetPath, 'docs');
  writeSite(dir, catalog);
  return { dir, catalog };
}

function writeSite(dir: string, catalog: Catalog): void {
  rmSync(dir, { recursive: true, force: true });
  const assets = join(dir, 'assets');
  mkdirSync(assets, { recursive: true });
  copyFileSync(join(SITE_DIR, 'index.html'), join(dir, 'index.html'));
  for (const f of SITE_FILES.slice(1)) copyFileSync(join(SITE_DIR, f), join(assets, f));
  const cytoscape = createRequire(import.meta.url).resolve('cytoscape/dist/cytoscape.min.js');
  copyFileSync(cytoscape, join(assets, 'cytoscape.min.js'));
  copyFileSync(join(dirname(dirname(cytoscape)), 'LICENSE'), join(assets, 'cytoscape.LICENSE.txt'));
  // redact(): a secret rendered into a template (env_var) never reaches the site. JSON.parse of a
  // string literal: browsers parse a large catalog this way faster than an object literal.
  writeFileSync(join(assets, 'catalog.js'), `window.FSQL_CATALOG = JSON.parse(${JSON.stringify(redact(JSON.stringify(catalog)))});\n`);
}
