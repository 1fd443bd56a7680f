import type { Project } from '../project/types.js';
import { DuckDbWarehouse } from './duckdb.js';
import type { Warehouse } from './warehouse.js';

/** Opens the adapter of the project's target. */
export async function openWarehouse(project: Project): Promise<Warehouse> {
  switch (project.target.type) {
    case 'duckdb':
      return DuckDbWarehouse.open(project.target, project.dir);
    case 'bigquery':
    case 'snowflake':
      throw new Error(`the ${project.target.type} adapter is not built yet`);
  }
}
