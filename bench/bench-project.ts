/**
 * The projects the benches share, in temporary folders: the transaction benches' own, and the
 * example project built and synced into Redis for the serving benches.
 */
import { makeProject } from '../test/helpers/project.js';
import { recentExample } from '../test/helpers/serve.js';
import { runFsql, THREADS } from './measure.js';

const SCHEMA = `sources:
  - name: raw
    tables:
      - name: transactions
        timestamp: ts
entities:
  - name: user
    join_keys: [user_id]
`;

/**
 * A DuckDB profile of the machine's threads (with an online store where given), the source
 * `raw.transactions` (timestamp `ts`) and the entity `user`, then the bench's own YAML and model files.
 */
export function benchProject(files: Record<string, string>, opts: { yml?: string; onlineStore?: string } = {}): string {
  const store = opts.onlineStore ? `      online_store: ${opts.onlineStore}\n` : '';
  return makeProject(
    {
      'profiles.yml': `bench:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: target/bench.duckdb\n      threads: ${THREADS}\n${store}`,
      'fsql_project.yml': 'name: bench\nprofile: bench\n',
      'models/schema.yml': SCHEMA + (opts.yml ?? ''),
      ...files,
    },
    'bench',
  );
}

/**
 * The example project with transactions ending yesterday (recentExample), its profile `redis`
 * on the Redis at `redisUrl`: `edit` changes its files, then fsql run and fsql sync build it.
 */
export async function syncedExample(redisUrl: string, edit: (dir: string) => void = () => {}): Promise<string> {
  const dir = recentExample(redisUrl);
  edit(dir);
  await runFsql(['--project-dir', dir, 'run'], dir);
  await runFsql(['--project-dir', dir, '--target', 'redis', 'sync'], dir);
  return dir;
}
