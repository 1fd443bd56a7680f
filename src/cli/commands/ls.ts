import type { Command } from 'commander';
import { compileProject } from '../../compiler/compile.js';
import { selectViews } from '../../compiler/select.js';
import { ProjectError } from '../../errors.js';
import { featureSummary } from '../../plans/aggregate.js';
import { collect, print, projectFor } from '../context.js';

export function register(program: Command): void {
  program
    .command('ls')
    .description('list feature views, sources and services')
    .option('-s, --select <selector>', 'views to list (dbt selection syntax)', collect)
    .option('--output <format>', 'name or json', 'name')
    .action(async (opts: { select?: string[]; output: string }, cmd: Command) => {
      if (opts.output !== 'name' && opts.output !== 'json') throw new ProjectError('--output', `must be name or json, not '${opts.output}'.`);
      const project = projectFor(cmd);
      const c = await compileProject(project);
      const views = selectViews(project.views, c.dag, opts.select);
      if (opts.output === 'json') {
        for (const name of views) {
          const v = c.manifest.views[name];
          print(JSON.stringify({ resource_type: 'feature_view', name, file: v.file, entities: v.config.entities, join_keys: v.join_keys, timestamp: v.config.timestamp, materialized: v.config.materialized, ttl_seconds: v.config.ttlSeconds ?? null, features: v.features, ...(v.aggregations ? { aggregations: v.aggregations } : {}), tags: v.config.tags, depends_on: v.depends_on }));
        }
        if (!opts.select) {
          for (const [name, v] of Object.entries(c.manifest.on_demand_views)) print(JSON.stringify({ resource_type: 'on_demand_view', name, file: v.file, inputs: v.inputs, request_fields: v.request_fields, features: v.features, types: v.types, tags: v.tags }));
          for (const [name, r] of Object.entries(c.manifest.request_sources)) print(JSON.stringify({ resource_type: 'request_source', name, fields: r.fields }));
          for (const [name, s] of Object.entries(c.manifest.sources)) print(JSON.stringify({ resource_type: 'source', name, relation: s.relation }));
          for (const [name, s] of Object.entries(c.manifest.services)) print(JSON.stringify({ resource_type: 'feature_service', name, online: s.online, features: s.features }));
        }
        return;
      }
      for (const name of views) {
        print(`feature_view:${name}`);
        for (const a of c.manifest.views[name].aggregations ?? []) print(`  ${featureSummary(a)}`);
      }
      if (!opts.select) {
        for (const name of Object.keys(c.manifest.on_demand_views)) print(`on_demand_view:${name}`);
        for (const name of Object.keys(c.manifest.request_sources)) print(`request_source:${name}`);
        for (const name of Object.keys(c.manifest.sources)) print(`source:${name}`);
        for (const name of Object.keys(c.manifest.services)) print(`feature_service:${name}`);
      }
    });
}
