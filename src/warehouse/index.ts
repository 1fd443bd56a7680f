import { restoreFastPrototypes } from '../fast-prototypes.js';
import type { Project } from '../project/types.js';
import { DuckDbWarehouse } from './duckdb.js';
import type { Warehouse } from './warehouse.js';

/** Opens the adapter of the project's target. */
export async function openWarehouse(project: Project): Promise<Warehouse> {
  switch (project.target.type) {
    case 'duckdb':
      return DuckDbWarehouse.open(project.target);
    case 'snowflake': {
      // loaded on demand: DuckDB users never load snowflake-sdk
      const { SnowflakeWarehouse } = await import('./snowflake.js');
      restoreFastPrototypes();
      return SnowflakeWarehouse.open(project.target, project.dir);
    }
    case 'bigquery': {
      // loaded on demand: DuckDB users never load the Google SDK
      const { BigQueryWarehouse } = await import('./bigquery.js');
      restoreFastPrototypes(); // the Google SDK leaves Number.prototype in dictionary mode
      return BigQueryWarehouse.open(project.target, { projectName: project.name, projectDir: project.dir });
    }
    case 'postgres': {
      const { PostgresWarehouse } = await import('./postgres.js');
      return PostgresWarehouse.open(project.target);
    }
  }
}
