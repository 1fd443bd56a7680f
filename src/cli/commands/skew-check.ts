import type { Command } from 'commander';
import { CommandFailed, ProjectError } from '../../errors.js';
import { showValue, skewCheck } from '../../offline/skew-check.js';
import { withOnlineStore } from '../../online/open.js';
import { loggerFor, print, projectFor, withWarehouse } from '../context.js';

export function register(program: Command): void {
  program
    .command('skew-check')
    .description('compare N entities\' online vectors with training rows built for them at the same instant; exit 1 on any difference')
    .requiredOption('--service <name>', 'the feature service to check')
    .option('--sample <n>', 'entities to compare', '100')
    .action(async (flags: { service: string; sample: string }, cmd: Command) => {
      const log = loggerFor(cmd);
      const project = projectFor(cmd);
      const sample = Number(flags.sample);
      if (!Number.isInteger(sample) || sample < 1 || sample > 10000) throw new ProjectError('--sample', `'${flags.sample}' is not a whole number from 1 to 10000.`);
      const r = await withWarehouse(project, (wh) => withOnlineStore(project, (store) => skewCheck(project, wh, store, log, { service: flags.service, sample })));
      for (const d of r.differences) {
        const entity = Object.entries(d.entity).map(([k, v]) => `${k}=${showValue(v)}`).join(', ');
        const online = d.online.status === 'PRESENT' ? `${showValue(d.online.value)} at ${d.online.effectiveTime?.toISOString()}` : `MISSING_DATA${d.online.effectiveTime ? ` (stored row at ${d.online.effectiveTime.toISOString()})` : ''}`;
        const training = d.training.effectiveTime ? `${showValue(d.training.value)} at ${d.training.effectiveTime.toISOString()}` : d.training.value !== null ? showValue(d.training.value) : 'no row (null)';
        print(`DIFF ${entity}  ${d.feature}: online ${online}; training ${training}`);
      }
      const summary = `skew-check ${r.service} at ${r.now.toISOString()}: ${r.entities} entities x ${r.features} features, ${r.present} values present on both sides, ${r.differences.length} difference(s)`;
      if (r.differences.length > 0) throw new CommandFailed(summary);
      log.info(summary);
    });
}
