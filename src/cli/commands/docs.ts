import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Command } from 'commander';
import { compileProject } from '../../compiler/compile.js';
import { generateDocs, readWarehouseFacts, type WarehouseFacts } from '../../docs/generate.js';
import { createDocsServer } from '../../docs/serve.js';
import { ProjectError } from '../../errors.js';
import { loadProject } from '../../project/load.js';
import { targetNames } from '../../project/profiles.js';
import { globals, loggerFor, print, projectFor, withWarehouse } from '../context.js';

const DEFAULT_DOCS_PORT = 8080;

/** dbt docs: the catalog site of the project, generated into target/docs/ and served from there. */
export function register(program: Command): void {
  const docs = program.command('docs').description('the catalog site: views, features, services, lineage, compiled SQL per target, freshness and statistics');
  docs
    .command('generate')
    .description('write the site to target/docs/ (index.html and assets; open it from disk, no server needed)')
    .option('--no-warehouse', 'connect to nothing: the site goes without freshness and feature statistics')
    .action(async (flags: { warehouse: boolean }, cmd: Command) => {
      const log = loggerFor(cmd);
      const g = globals(cmd);
      const project = projectFor(cmd);
      const t0 = Date.now();
      const compilation = await compileProject(project, { write: true });
      for (const w of compilation.warnings) log.warn(w);
      const targets = targetNames({ projectDir: project.dir, profilesDir: g.profilesDir, profileName: project.profileName }).map((name) => {
        if (name === project.target.name) return { name, project };
        try {
          return { name, project: loadProject({ projectDir: g.projectDir, profilesDir: g.profilesDir, target: name, vars: g.vars }) };
        } catch (e) {
          return { name, error: (e as Error).message };
        }
      });
      const where = `target '${project.target.name}' (${project.target.type})`;
      const facts: WarehouseFacts = flags.warehouse
        ? await withWarehouse(project, (wh) => readWarehouseFacts(project, compilation, wh)).catch((e: Error) => ({ notes: [`Warehouse of ${where} not reached, so no freshness or feature statistics: ${e.message}`] }))
        : { notes: ['--no-warehouse: no freshness or feature statistics.'] };
      const { dir, catalog } = await generateDocs({ project, compilation, targets, facts, log });
      for (const note of catalog.notes) log.info(note);
      const compiled = catalog.targets.filter((t) => !t.error).map((t) => t.name);
      log.info(`Catalog of ${catalog.views.length} views, ${catalog.services.length} services, SQL for ${compiled.join(', ')} in ${((Date.now() - t0) / 1000).toFixed(2)}s; open it with fsql docs serve, or from disk:`);
      print(join(dir, 'index.html'));
    });
  docs
    .command('serve')
    .description(`serve target/docs/ on loopback (default 127.0.0.1:${DEFAULT_DOCS_PORT})`)
    .option('--port <port>', `port (0 picks a free one; default ${DEFAULT_DOCS_PORT})`)
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .action(async (flags: { port?: string; host: string }, cmd: Command) => {
      const log = loggerFor(cmd);
      const project = projectFor(cmd);
      const dir = join(project.targetPath, 'docs');
      if (!existsSync(join(dir, 'index.html'))) throw new ProjectError(dir, 'no docs site here yet: run fsql docs generate first.');
      const port = flags.port === undefined ? DEFAULT_DOCS_PORT : Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ProjectError('--port', `'${flags.port}' is not a port number from 0 to 65535.`);
      const server = createDocsServer(dir);
      const stop = new Promise<NodeJS.Signals>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', (e: NodeJS.ErrnoException) => reject(new ProjectError('--port', `cannot listen on ${flags.host}:${port}: ${e.code ?? e.message}. Pick another --port.`)));
        server.listen(port, flags.host, resolve);
      });
      const addr = server.address() as AddressInfo;
      log.info(`Serving the docs of ${project.name} on http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}/ (Ctrl-C stops)`);
      const signal = await stop;
      log.info(`stopping on ${signal}`);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });
}
