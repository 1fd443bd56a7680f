/**
 * @duckdb/node-api, loaded as CommonJS. Imported from an ES module, Node first runs its
 * cjs-module-lexer over every file of the package (about 40) to find their named exports: loading
 * it took 0.18 s that way against 0.11 s through require, and every fsql command on DuckDB paid the
 * difference. Values come from here; types from the package itself (`import type`).
 */
import { createRequire } from 'node:module';
import type * as NodeApi from '@duckdb/node-api';

export const duckdbApi: typeof NodeApi = createRequire(import.meta.url)('@duckdb/node-api');
