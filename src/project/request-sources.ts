/** `request_sources:` entries of the model YAML files (SPEC section 10). */
import { EXPR_TYPES, type ExprType } from '../expressions/tree.js';
import { expectKeys, expectMapping, expectName, expectString, type Path } from './checks.js';
import type { RequestSource } from './types.js';
import type { YamlFile } from './yaml-file.js';

const REQUEST_SOURCE_KEYS = ['name', 'schema', 'description'];

export function readRequestSource(y: YamlFile, path: Path, v: unknown): RequestSource {
  const m = expectMapping(y, path, v, 'a request source');
  expectKeys(y, path, m, REQUEST_SOURCE_KEYS, 'a request source');
  const name = expectName(y, [...path, 'name'], m.name, 'request source name');
  const schemaPath = [...path, 'schema'];
  if (m.schema === undefined || m.schema === null) throw y.error(path, `request source '${name}' needs schema: {field: type, ...} with types ${EXPR_TYPES.join(', ')}.`);
  const schema = expectMapping(y, schemaPath, m.schema, `schema of request source '${name}'`);
  const fields = Object.entries(schema).map(([field, type]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(field)) throw y.error([...schemaPath, field], `request field '${field}' must be letters, digits and underscores.`);
    if (typeof type !== 'string' || !EXPR_TYPES.includes(type as ExprType)) {
      throw y.error([...schemaPath, field], `request field '${field}' has type '${String(type)}'; types: ${EXPR_TYPES.join(', ')}.`);
    }
    return { name: field, type: type as ExprType };
  });
  if (fields.length === 0) throw y.error(schemaPath, `request source '${name}' has no fields; list them as schema: {amount: float64}.`);
  return { name, fields, description: expectString(y, [...path, 'description'], m.description, 'description') ?? '', file: y.file, line: y.line(path) };
}
