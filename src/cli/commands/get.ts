import type { Command } from 'commander';
import { ProjectError } from '../../errors.js';
import { withOnlineStore } from '../../online/open.js';
import { planService, readVector, type FeatureValue } from '../../online/vector.js';
import { toJsonValue } from '../../serving/encode.js';
import { Timestamp, typeName, type Value } from '../../values.js';
import { collect, print, projectFor } from '../context.js';

interface GetFlags {
  service: string;
  key?: string[];
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('get')
    .description('read one feature vector from the online store')
    .requiredOption('--service <name>', 'the feature service')
    .option('--key <k=v>', 'a join key and its value; repeat for each join key', collect)
    .option('--json', 'print JSON instead of a table')
    .action(async (flags: GetFlags, cmd: Command) => {
      const project = projectFor(cmd);
      const service = project.services.get(flags.service);
      if (!service) {
        throw new ProjectError('--service', `no feature service '${flags.service}'. Services: ${[...project.services.keys()].join(', ') || 'none'}.`);
      }
      if (!service.online) throw new ProjectError(service.file, `feature service '${service.name}' has online: false; set online: true to serve it.`);
      const keys: Record<string, string> = {};
      for (const kv of flags.key ?? []) {
        const eq = kv.indexOf('=');
        if (eq <= 0) throw new ProjectError('--key', `'${kv}' is not name=value.`);
        keys[kv.slice(0, eq)] = kv.slice(eq + 1);
      }
      const vector = await withOnlineStore(project, async (store) => {
        const plan = planService(service, await store.getLayouts());
        return readVector(store, plan, keys);
      });
      if (flags.json) {
        print(JSON.stringify({
          service: service.name,
          join_keys: keys,
          features: vector.map((f) => ({ name: f.name, dataType: f.type, value: toJsonValue(f.value), effectiveTime: f.effectiveTime?.toISOString() ?? null, status: f.status })),
        }));
        return;
      }
      print(table(vector));
    });
}

function table(vector: FeatureValue[]): string {
  const head = ['feature', 'type', 'value', 'effective time', 'status'];
  const rows = vector.map((f) => [f.name, typeName(f.type), show(f.value), f.effectiveTime?.toISOString() ?? '-', f.status + (f.reason === 'expired' ? ' (past TTL)' : f.reason === 'future' ? ' (dated after now)' : '')]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [head, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

function show(v: Value): string {
  if (v === null) return 'null';
  if (v instanceof Timestamp) return v.toISOString();
  if (Array.isArray(v)) return JSON.stringify(toJsonValue(v));
  return String(v);
}
