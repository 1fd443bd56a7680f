import { cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { ProjectError } from '../../errors.js';
import { endingBefore, INIT_DATA, utcToday, writeExampleData } from '../../example/transactions.js';
import { loggerFor } from '../context.js';
import { fsqlCommand, PACKAGE_ROOT } from '../invocation.js';

export function register(program: Command): void {
  program
    .command('init')
    .argument('<dir>', 'the folder to create')
    .description('create a new project with the fraud example, a DuckDB profile and sample data')
    .option('--today <date>', "the sample transactions cover the 30 days before this date, YYYY-MM-DD (default: today's UTC date)")
    .action((dir: string, opts: { today?: string }, cmd: Command) => {
      const target = resolve(dir);
      const today = opts.today ?? utcToday();
      if (!/^\d{4}-\d{2}-\d{2}$/.test(today) || Number.isNaN(Date.parse(today))) throw new ProjectError('--today', `'${today}' is not a date such as 2025-01-31.`);
      if (existsSync(target) && readdirSync(target).length > 0) {
        throw new ProjectError(dir, 'folder exists and is not empty; pick a new folder name.');
      }
      const name = basename(target).toLowerCase().replace(/[^a-z0-9_]/g, '_').replace(/^(\d)/, '_$1');
      mkdirSync(target, { recursive: true });
      for (const folder of ['models', 'macros']) cpSync(join(PACKAGE_ROOT, folder), join(target, folder), { recursive: true });
      writeFileSync(join(target, 'fsql_project.yml'), `name: ${name}\nprofile: ${name}\nvars:\n  large_amount: 500\n`);
      writeFileSync(
        join(target, 'profiles.yml'),
        `${name}:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: target/dev.duckdb\n      schema: main\n      threads: 2\n      online_store: {type: sqlite, path: target/online.sqlite}\n`,
      );
      writeFileSync(join(target, '.gitignore'), 'target/\n');
      writeExampleData(join(target, 'data'), endingBefore(INIT_DATA, today));
      const cd = /[\s'"$]/.test(dir) ? `'${dir.replace(/'/g, `'\\''`)}'` : dir;
      loggerFor(cmd).info(`Created ${dir} (sample transactions over the ${INIT_DATA.days} days before ${today}). Next: cd ${cd} && ${fsqlCommand(target)} run`);
    });
}
