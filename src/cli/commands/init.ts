import { cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { ProjectError } from '../../errors.js';
import { writeExampleData } from '../../example/transactions.js';
import { loggerFor } from '../context.js';

/** The package root: the example project's models/ and macros/ are copied from there. */
const PACKAGE_ROOT = resolve(fileURLToPath(import.meta.url), '../../../../..');

export function register(program: Command): void {
  program
    .command('init')
    .argument('<dir>', 'the folder to create')
    .description('create a new project with the fraud example, a DuckDB profile and sample data')
    .action((dir: string, _opts: unknown, cmd: Command) => {
      const target = resolve(dir);
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
      writeExampleData(join(target, 'data'), { transactions: 5000, users: 300, merchants: 50, start: '2024-03-01', days: 30, seed: 11 });
      loggerFor(cmd).info(`Created ${dir}. Next: cd ${dir} && fsql run`);
    });
}
