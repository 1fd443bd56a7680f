/**
 * The project the transaction benches share, in a temporary folder: a DuckDB profile of the
 * machine's threads (with an online store where given), the source `raw.transactions` (timestamp
 * `ts`) and the entity `user`, then the bench's own YAML and model files.
 */
import { makeProject } from '../test/helpers/project.js';
import { THREADS } from './measure.js';

const SCHEMA = `sources:
  - name: raw
    tables:
      - name: transactions
        timestamp: ts
entities:
  - name: user
    join_keys: [user_id]
`;

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
