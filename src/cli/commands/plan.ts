import type { Command } from 'commander';
import { compileProject } from '../../compiler/compile.js';
import { selectViews } from '../../compiler/select.js';
import { planChanges, modifiedViews } from '../../offline/state.js';
import { collect, print, projectFor, withWarehouse } from '../context.js';

const MARK = { new: '+', removed: '-', changed: '~', unchanged: '=' } as const;

/** SQLMesh's plan, dbt's state comparison: the project against what was last applied to the target. */
export function register(program: Command): void {
  program
    .command('plan')
    .description('compare the project with the state last applied to the target (fsql_state): per view new, removed, changed (breaking or not) or unchanged, and the services a breaking change reaches')
    .option('-s, --select <selector>', 'views to show (dbt selection syntax; state:modified[+] too)', collect)
    .option('--output <format>', 'text or json', 'text')
    .action(async (flags: { select?: string[]; output?: string }, cmd: Command) => {
      const project = projectFor(cmd);
      const { plan, shown } = await withWarehouse(project, async (wh) => {
        const c = await compileProject(project);
        const plan = await planChanges(project, wh, c);
        const shown = flags.select ? new Set([...selectViews(project.views, c.dag, flags.select, undefined, modifiedViews(plan)), ...plan.changes.filter((ch) => ch.kind === 'removed').map((ch) => ch.view)]) : undefined;
        return { plan, shown };
      });
      const changes = plan.changes.filter((ch) => !shown || shown.has(ch.view));
      if (flags.output === 'json') {
        print(JSON.stringify({ applied_state: plan.applied, views: changes.map((ch) => ({ view: ch.view, change: ch.kind, breaking: ch.breaking, reasons: ch.reasons })), affected_services: plan.affectedServices }));
        return;
      }
      if (!plan.applied) print(`No state applied to target '${project.target.name}' yet: every view is new. fsql run or fsql build records it.`);
      for (const ch of changes) {
        const what = ch.kind === 'changed' ? (ch.breaking ? 'changed, breaking: rebuild the offline table and resync' : 'changed, not breaking') : ch.kind;
        print(`${MARK[ch.kind]} ${ch.view}: ${what}${ch.reasons.length > 0 && ch.kind === 'changed' ? ` (${ch.reasons.join('; ')})` : ''}`);
      }
      if (plan.affectedServices.length > 0) print(`Services reading a breaking change: ${plan.affectedServices.join(', ')}`);
    });
}
