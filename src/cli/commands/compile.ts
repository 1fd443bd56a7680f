import type { Command } from 'commander';
import { compileProject } from '../../compiler/compile.js';
import { selectViews } from '../../compiler/select.js';
import { collect, loggerFor, projectFor } from '../context.js';

export function register(program: Command): void {
  program
    .command('compile')
    .description("render and check every feature view for the target's dialect; write target/compiled and manifest.json (no connection needed)")
    .option('-s, --select <selector>', 'views to report (dbt selection syntax)', collect)
    .option('--strict', 'treat SQL parser warnings for BigQuery/Snowflake as errors')
    .action(async (opts: { select?: string[]; strict?: boolean }, cmd: Command) => {
      const log = loggerFor(cmd);
      const project = projectFor(cmd);
      const t0 = Date.now();
      const c = await compileProject(project, { strict: opts.strict, write: true });
      for (const w of c.warnings) log.warn(w);
      const selected = selectViews(project.views, c.dag, opts.select);
      log.info(`Compiled ${selected.length} feature views for ${project.target.name} (${project.target.type}) in ${((Date.now() - t0) / 1000).toFixed(2)}s -> ${project.targetPath}/compiled/${project.target.name}`);
    });
}
