import type { Command } from 'commander';
import { compileProject } from '../../compiler/compile.js';
import { selectViews } from '../../compiler/select.js';
import { CommandFailed, CompileError } from '../../errors.js';
import { featureSummary } from '../../plans/aggregate.js';
import { formatBytes, validateViews } from '../../offline/validate.js';
import { collect, loggerFor, projectFor, withWarehouse } from '../context.js';

export function register(program: Command): void {
  program
    .command('compile')
    .description("render and check every feature view for the target's dialect; write target/compiled and manifest.json (no connection needed, except with --validate)")
    .option('-s, --select <selector>', 'views to report (dbt selection syntax)', collect)
    .option('--strict', 'treat SQL parser warnings for BigQuery/Snowflake as errors')
    .option('--validate', 'also check each view against the warehouse without running it (BigQuery: dry run, reports bytes it would scan; DuckDB: EXPLAIN); connects')
    .action(async (opts: { select?: string[]; strict?: boolean; validate?: boolean }, cmd: Command) => {
      const log = loggerFor(cmd);
      const project = projectFor(cmd);
      const t0 = Date.now();
      const c = await compileProject(project, { strict: opts.strict, write: true });
      for (const w of c.warnings) log.warn(w);
      const selected = selectViews(project.views, c.dag, opts.select);
      const unbound = selected.flatMap((name) => c.bindErrors.get(name) ?? []);
      if (unbound.length > 0) throw new CompileError(unbound.join('\n'));
      for (const name of selected) {
        const aggs = c.manifest.views[name].aggregations;
        if (aggs) log.info(`${name}: aggregate view, tile ${project.views.get(name)!.config.aggregate!.tileSeconds}s; ${aggs.map(featureSummary).join('; ')}`);
      }
      log.info(`Compiled ${selected.length} feature views for ${project.target.name} (${project.target.type}) in ${((Date.now() - t0) / 1000).toFixed(2)}s -> ${project.targetPath}/compiled/${project.target.name}`);
      if (!opts.validate) return;
      const checks = await withWarehouse(project, (wh) => validateViews(project, c, wh, selected));
      let total = 0n;
      for (const r of checks) {
        const fields = { view: r.name, status: r.status, ...(r.bytesProcessed !== undefined ? { bytes_processed: r.bytesProcessed } : {}) };
        if (r.status === 'ok') log.info(`OK   ${r.name} ${r.message}`, fields);
        else log.error(`FAIL ${r.name}: ${r.message}`, fields);
        total += r.bytesProcessed ?? 0n;
      }
      const failed = checks.filter((r) => r.status === 'error').length;
      const scan = checks.some((r) => r.bytesProcessed !== undefined) ? `; ${failed > 0 ? 'the views that passed' : 'a full build'} would scan ${formatBytes(total)}` : '';
      const summary = `Validated ${checks.length} views on ${project.target.name} (${project.target.type}): PASS=${checks.length - failed} ERROR=${failed}${scan}`;
      if (failed > 0) throw new CommandFailed(summary);
      log.info(summary);
    });
}
