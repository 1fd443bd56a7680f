import type { Command } from 'commander';
import { CommandFailed, ProjectError } from '../../errors.js';
import { withOnlineStore } from '../../online/open.js';
import { newApiKey } from '../../serving/auth.js';
import { collect, loggerFor, print, projectFor } from '../context.js';

export function register(program: Command): void {
  const apiKey = program.command('api-key').description('API keys for serve --auth (stored in the online store as sha256 hashes only)');

  apiKey
    .command('create')
    .description('create a key and print it once; only its hash is kept')
    .option('--description <text>', 'what the key is for', '')
    .option('--service <name>', 'a feature service the key may read (repeat; default: every service)', collect)
    .action(async (flags: { description: string; service?: string[] }, cmd: Command) => {
      const log = loggerFor(cmd);
      const project = projectFor(cmd);
      const services = flags.service ?? [];
      for (const s of services) {
        if (!project.services.has(s)) throw new ProjectError('--service', `no feature service '${s}'. Services: ${[...project.services.keys()].join(', ') || 'none'}.`);
      }
      const { key, record } = newApiKey(flags.description, services);
      await withOnlineStore(project, (store) => store.putApiKey(record));
      log.info(`Created API key ${record.id} for ${services.length ? `service(s) ${services.join(', ')}` : 'every service'}. It is printed once, below; store it now.`);
      print(key);
    });

  apiKey
    .command('list')
    .description('list keys (ids, descriptions, services; never the keys)')
    .option('--json', 'one JSON object per key')
    .action(async (flags: { json?: boolean }, cmd: Command) => {
      const project = projectFor(cmd);
      const records = await withOnlineStore(project, (store) => store.listApiKeys());
      if (flags.json) {
        for (const r of records) print(JSON.stringify({ id: r.id, description: r.description, services: r.services, created_at: r.createdAt, revoked: r.revoked }));
        return;
      }
      if (records.length === 0) {
        loggerFor(cmd).info('No API keys. Create one with: fsql api-key create --description "..."');
        return;
      }
      const rows = [['id', 'created', 'status', 'services', 'description'], ...records.map((r) => [r.id, r.createdAt, r.revoked ? 'revoked' : 'active', r.services.join(',') || '*', r.description])];
      const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
      print(rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n'));
    });

  apiKey
    .command('revoke')
    .argument('<id>', 'the key id shown by create and list')
    .description('revoke a key: servers refuse it within their key cache time (5 s)')
    .action(async (id: string, _flags: unknown, cmd: Command) => {
      const log = loggerFor(cmd);
      const project = projectFor(cmd);
      await withOnlineStore(project, async (store) => {
        const record = (await store.listApiKeys()).find((r) => r.id === id);
        if (!record) throw new CommandFailed(`no API key with id '${id}'; see fsql api-key list.`);
        if (record.revoked) {
          log.info(`API key ${id} was already revoked.`);
          return;
        }
        await store.putApiKey({ ...record, revoked: true });
        log.info(`Revoked API key ${id}.`);
      });
    });
}
