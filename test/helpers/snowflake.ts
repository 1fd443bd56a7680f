/** Projects whose snowflake target points at a FakeSnowflake on loopback. */
import { stringify } from 'yaml';
import { loadProject } from '../../src/project/load.js';
import { SnowflakeWarehouse, type SnowflakeHooks } from '../../src/warehouse/snowflake.js';
import type { FakeSnowflake } from '../fakes/snowflake-server.js';
import { makeProject } from './project.js';

export const SF_PASSWORD = 'correct horse';

/** The profile output for the fake: the example's sf output with the fake's address. */
export function sfOutput(fake: FakeSnowflake, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {
    type: 'snowflake',
    account: 'xy12345.us-east-1',
    user: 'fsql',
    password: SF_PASSWORD,
    role: 'TRANSFORMER',
    warehouse: 'COMPUTE_WH',
    database: 'ANALYTICS',
    schema: 'FEATURES',
    threads: 2,
    access_url: fake.accessUrl,
    ...extra,
  };
  for (const [k, v] of Object.entries(out)) if (v === undefined) delete out[k];
  return out;
}

export function sfProfiles(fake: FakeSnowflake, extra: Record<string, unknown> = {}, name = 'proj'): string {
  return stringify({ [name]: { target: 'sf', outputs: { sf: sfOutput(fake, extra) } } });
}

/** A project with no views whose only target is the fake. */
export function sfProject(fake: FakeSnowflake, extra: Record<string, unknown> = {}, files: Record<string, string> = {}): string {
  return makeProject({ 'profiles.yml': sfProfiles(fake, extra), 'models/.keep': '', ...files });
}

export async function openSf(fake: FakeSnowflake, extra: Record<string, unknown> = {}, hooks: SnowflakeHooks = {}): Promise<SnowflakeWarehouse> {
  const dir = sfProject(fake, extra);
  const project = loadProject({ projectDir: dir });
  return SnowflakeWarehouse.open(project.target, project.dir, { retryBaseMs: 5, ...hooks });
}
