import type { Command } from 'commander';
import { CommandFailed, ProjectError } from '../../errors.js';
import { showValue, skewCheck } from '../../offline/skew-check.js';
import { withOnlineStore } from '../../online/open.js';
import { loggerFor, parseTime, print, projectFor, withWarehouse } from '../context.js';
import { loggedSkewCheck } from '../../offline/logged-skew.js';

export function register(program: Command): void {
  program
    .command('skew-check')
    .description('compare N entities\' online vectors with training rows built for them at the same instant; exit 1 on any difference')
    .option('--service <name>', 'the feature service to check')
    .option('--sample <n>', 'entities to compare', '100')
    .option('--logged <service>', "instead: compare the values a service served (its feature log, loaded by fsql logs load) with training rows recomputed for the same requests")
    .option('--start <time>', 'with --logged: requests from this time on (ISO 8601)')
    .option('--end <time>', 'with --logged: requests before this time')
    .action(async (flags: { service?: string; sample: string; logged?: string; start?: string; end?: string }, cmd: Command) => {
      const log = loggerFor(cmd);
      const project = projectFor(cmd);
      if (flags.logged !== undefined) {
        if (flags.service !== undefined && flags.service !== flags.logged) throw new ProjectError('--logged', `--logged ${flags.logged} checks what that service served; leave out --service (or give the same name).`);
        const [start, end] = [parseTime('--start', flags.start), parseTime('--end', flags.end)];
        const r = await withWarehouse(project, (wh) => loggedSkewCheck(project, wh, log, { service: flags.logged!, range: { start, end } }));
        for (const d of r.differences) print(`DIFF request ${d.requestId} row ${d.requestRow}  ${d.feature}: served ${showValue(d.served)}; training ${showValue(d.training)}`);
        const summary = `skew-check --logged ${r.service}: ${r.requests} logged requests x ${r.features} features, ${r.differences.length} difference(s)${r.differences.length > 0 ? ' (the first requests that differ)' : ''}`;
        if (r.differences.length > 0) throw new CommandFailed(summary);
        log.info(summary);
        return;
      }
      if (flags.service === undefined) throw new ProjectError('--service', 'skew-check needs --service <name> (online store against training) or --logged <service> (served values against training).');
      const sample = Number(flags.sample);
      if (!Number.isInteger(sample) || sample < 1 || sample > 10000) throw new ProjectError('--sample', `'${flags.sample}' is not a whole number from 1 to 10000.`);
      const r = await withWarehouse(project, (wh) => withOnlineStore(project, (store) => skewCheck(project, wh, store, log, { service: flags.service!, sample })));
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
