import { basename } from 'node:path';
import type { Command } from 'commander';
import { compileProject } from '../../compiler/compile.js';
import { renderConnectionCheck } from '../../dialects/queries.js';
import { CommandFailed, ProjectError } from '../../errors.js';
import { parseDuration } from '../../duration.js';
import { openOnlineStore } from '../../online/open.js';
import type { Project } from '../../project/types.js';
import { FSQL_VERSION } from '../../version.js';
import { globals, print, projectFor, withWarehouse } from '../context.js';

const DEFAULT_TIMEOUT_SECONDS = 10;

interface Check {
  check: string;
  ok: boolean;
  detail: string;
}

/** `fn`, or an error naming `what` once `ms` have passed. */
async function within<T>(ms: number, what: string, fn: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms / 1000}s`)), ms);
  });
  try {
    return await Promise.race([fn(), late]);
  } finally {
    clearTimeout(timer);
  }
}

async function check(name: string, fn: () => Promise<string>, fix: string): Promise<Check> {
  try {
    return { check: name, ok: true, detail: await fn() };
  } catch (e) {
    return { check: name, ok: false, detail: `${(e as Error).message.replace(/\.?\s*$/, '')}. ${fix}` };
  }
}

/** dbt debug: is the project loadable and compilable, and do the warehouse and the online store answer? */
export function register(program: Command): void {
  program
    .command('debug')
    .description('check the project, its profile and target, the warehouse connection and the online store; one line each; exit 1 on any failure')
    .option('--timeout <duration>', `how long each connection may take (default ${DEFAULT_TIMEOUT_SECONDS}s)`)
    .action(async (flags: { timeout?: string }, cmd: Command) => {
      const seconds = flags.timeout === undefined ? DEFAULT_TIMEOUT_SECONDS : parseDuration(flags.timeout);
      if (seconds === undefined || seconds <= 0) throw new ProjectError('--timeout', `'${flags.timeout}' is not a duration above zero such as '5s'.`);
      const ms = Math.round(seconds * 1000);
      const json = globals(cmd).logFormat === 'json';
      const report = (c: Check) => print(json ? JSON.stringify({ check: c.check, status: c.ok ? 'ok' : 'failed', detail: c.detail }) : `${c.ok ? 'ok    ' : 'FAILED'}  ${c.check}: ${c.detail}`);
      const checks: Check[] = [{ check: 'fsql', ok: true, detail: `${FSQL_VERSION} on Node ${process.versions.node}` }];
      let project: Project | undefined;
      try {
        project = projectFor(cmd);
        checks.push({ check: 'project', ok: true, detail: `${project.name} in ${project.dir}: ${project.views.size} feature views, ${project.onDemandViews.size} on-demand views, ${project.services.size} services` });
      } catch (e) {
        // a profiles.yml problem is the profile's line; any other file's, the project's
        const inProfile = e instanceof ProjectError && basename(e.file) === 'profiles.yml';
        const fix = inProfile ? 'Fix profiles.yml there (or pass --profiles-dir or --target).' : 'Fix the file named above (or pass --project-dir).';
        checks.push({ check: inProfile ? 'profile' : 'project', ok: false, detail: `${(e as Error).message.replace(/\.?\s*$/, '')}. ${fix}` });
      }
      checks.forEach(report);
      const p = project;
      if (!p) throw new CommandFailed('fsql debug: the project did not load, so nothing else was checked.');
      const rest: Check[] = [
        { check: 'profile', ok: true, detail: `${p.target.profileFile}: profile '${p.profileName}', target '${p.target.name}' (${p.target.type}, schema ${p.target.schema})` },
        await check('compile', async () => {
          const c = await compileProject(p);
          const unbound = [...c.bindErrors.values()];
          if (unbound.length > 0) throw new Error(unbound.join('; '));
          return `${Object.keys(c.manifest.views).length + Object.keys(c.manifest.on_demand_views).length} views compiled for '${p.target.name}'${c.warnings.length > 0 ? ` (${c.warnings.length} warnings: see fsql compile)` : ''}`;
        }, 'Fix the view named above; fsql compile shows every error.'),
        await check('warehouse', () => within(ms, `the ${p.target.type} warehouse`, () => withWarehouse(p, async (wh) => {
          await wh.query(renderConnectionCheck(), { label: 'fsql debug' });
          return `${p.target.type} answers (target '${p.target.name}')`;
        })), `Check the connection keys of output '${p.target.name}' in ${p.target.profileFile}, the credentials they point at, and that the warehouse is reachable from here.`),
        await check('online store', () => within(ms, 'the online store', async () => {
          const store = await openOnlineStore(p, { connectTimeoutMs: ms, commandTimeoutMs: ms });
          try {
            await store.ping();
            return `${store.location} answers`;
          } finally {
            await store.close();
          }
        }), `Check online_store of output '${p.target.name}' in ${p.target.profileFile}, and that the store is running and reachable.`),
      ];
      rest.forEach(report);
      const failed = [...checks, ...rest].filter((c) => !c.ok);
      if (failed.length > 0) {
        // a connection that never answers must not keep the process alive past its report
        setTimeout(() => process.exit(1), 200).unref();
        throw new CommandFailed(`fsql debug: ${failed.length} check(s) failed: ${failed.map((c) => c.check).join(', ')}.`);
      }
    });
}
