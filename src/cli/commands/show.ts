import type { Command } from 'commander';
import { compileProject } from '../../compiler/compile.js';
import { selectViews } from '../../compiler/select.js';
import { renderPreview } from '../../dialects/queries.js';
import { CompileError, ProjectError } from '../../errors.js';
import { toJsonValue } from '../../serving/encode.js';
import type { Value } from '../../values.js';
import { collect, loggerFor, print, projectFor, withWarehouse } from '../context.js';
import { formatTable } from '../table.js';

const MAX_LIMIT = 100_000;

function cell(v: Value): string {
  const j = toJsonValue(v);
  return j === null ? 'null' : typeof j === 'object' ? JSON.stringify(j) : String(j);
}

/** dbt show: a view's compiled SELECT run with a LIMIT against the target, nothing built or written. */
export function register(program: Command): void {
  program
    .command('show')
    .description("preview a feature view's rows: its compiled SELECT run with a LIMIT on the target's warehouse; builds nothing")
    .requiredOption('-s, --select <selector>', 'the view to preview (dbt selection syntax; must pick one view)', collect)
    .option('--limit <n>', 'rows to show', '10')
    .option('--output <format>', 'text (a table) or json (one object per row)', 'text')
    .action(async (flags: { select: string[]; limit: string; output: string }, cmd: Command) => {
      if (flags.output !== 'text' && flags.output !== 'json') throw new ProjectError('--output', `must be text or json, not '${flags.output}'.`);
      const limit = Number(flags.limit);
      if (!Number.isInteger(limit) || limit < 0 || limit > MAX_LIMIT) throw new ProjectError('--limit', `'${flags.limit}' is not a whole number from 0 to ${MAX_LIMIT}.`);
      const log = loggerFor(cmd);
      const project = projectFor(cmd);
      const onDemand = flags.select.flatMap((s) => s.split(/\s+/)).find((s) => project.onDemandViews.has(s));
      if (onDemand) throw new ProjectError('--select', `'${onDemand}' is an on-demand view: its features are computed per request (fsql serve) or per event (fsql train); fsql show previews feature views.`);
      const c = await compileProject(project);
      const selected = selectViews(project.views, c.dag, flags.select);
      if (selected.length !== 1) {
        throw new ProjectError('--select', `'${flags.select.join(' ')}' selects ${selected.length} views${selected.length > 0 ? ` (${selected.slice(0, 5).join(', ')}${selected.length > 5 ? ', …' : ''})` : ''}; fsql show previews one: name it.`);
      }
      const name = selected[0];
      const unbound = c.bindErrors.get(name);
      if (unbound) throw new CompileError(unbound);
      const view = c.manifest.views[name];
      const rows = await withWarehouse(project, (wh) => wh.query(renderPreview(view.compiled_sql, limit), { label: view.file }));
      const columns = rows.length > 0 ? Object.keys(rows[0]) : (view.columns ?? []);
      if (flags.output === 'json') {
        for (const r of rows) print(JSON.stringify(Object.fromEntries(columns.map((col) => [col, toJsonValue(r[col])]))));
      } else {
        print(formatTable(columns, rows.map((r) => columns.map((col) => cell(r[col])))));
      }
      log.info(`${rows.length} row(s) of ${name} (${view.file}) on ${project.target.name}, limit ${limit}; nothing was built.`);
      if (view.aggregations) log.info(`${name} is an aggregate view: these are its input events; its windows are computed at the moment of use (fsql train, fsql serve).`);
    });
}
