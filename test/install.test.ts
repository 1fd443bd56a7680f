/**
 * The install a user outside this repository does: `npm pack`, then in their own project
 * `npm install --save-dev fsql-<version>.tgz` and `npx fsql ...`. The dependencies are copied from
 * this checkout's node_modules and npm runs offline, so the test needs no registry and stays fast;
 * what it checks is the package itself: its files, its bin, and init's hint from a real install.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nextHint, runHint } from './helpers/init-hint.js';
import { REPO_ROOT } from './helpers/project.js';

const OFFLINE = { ...process.env, npm_config_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };

function sh(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, env: OFFLINE, encoding: 'utf8' });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed in ${cwd}:\n${r.stdout}${r.stderr}`);
  return r.stdout + r.stderr;
}

test('npm pack, npm install --save-dev in a new project, npx fsql init, then the hint init prints', () => {
  const base = mkdtempSync(join(tmpdir(), 'fsql-install-'));
  try {
    // prepare (tsc) already ran: the suite runs on the built dist/.
    sh('npm', ['pack', '--ignore-scripts', '--pack-destination', base], REPO_ROOT);
    const tarball = readdirSync(base).find((f) => /^fsql-.*\.tgz$/.test(f));
    assert.ok(tarball, 'npm pack wrote no tarball');
    const listing = sh('tar', ['-tzf', join(base, tarball)], base);
    for (const f of ['package/bin/fsql.js', 'package/dist/src/cli/main.js', 'package/macros/rolling_stats.sql', 'package/models/sources.yml', 'package/README.md', 'package/src/docs/site/app.js']) assert.ok(listing.includes(f), `${f} is not in the package`);
    assert.doesNotMatch(listing, /package\/(test|bench|dist\/test)\//);

    const project = join(base, 'acme');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), '{"name": "acme", "version": "1.0.0", "private": true}\n');
    sh('cp', ['-R', join(REPO_ROOT, 'node_modules'), join(project, 'node_modules')], base);
    unlinkSync(join(project, 'node_modules', '.package-lock.json'));
    sh('npm', ['install', '--ignore-scripts', '--save-dev', join(base, tarball)], project);

    const init = spawnSync('npx', ['--no-install', 'fsql', 'init', 'features'], { cwd: project, env: OFFLINE, encoding: 'utf8' });
    assert.equal(init.status, 0, init.stderr);
    const hint = nextHint(init.stderr);
    assert.equal(hint, 'cd features && npx fsql run');
    const run = runHint(hint, project);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /PASS=3 ERROR=0 SKIP=0 TOTAL=3/);
    // the docs site from the installed package: its page files and cytoscape from the install's node_modules
    const docs = spawnSync('npx', ['--no-install', 'fsql', 'docs', 'generate', '--no-warehouse'], { cwd: join(project, 'features'), env: OFFLINE, encoding: 'utf8' });
    assert.equal(docs.status, 0, docs.stderr);
    assert.deepEqual(readdirSync(join(project, 'features', 'target', 'docs', 'assets')).sort(), ['app.css', 'app.js', 'catalog.js', 'cytoscape.LICENSE.txt', 'cytoscape.min.js']);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
