/** Small validators for YAML mappings: each failure names the file, the line and the fix. */
import type { YamlFile } from './yaml-file.js';
import { parseDuration, DURATION_HELP } from '../duration.js';

export type Path = (string | number)[];

export function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function expectMapping(y: YamlFile, path: Path, v: unknown, what: string): Record<string, unknown> {
  if (!isMapping(v)) throw y.error(path, `${what} must be a mapping of keys to values.`);
  return v;
}

export function expectList(y: YamlFile, path: Path, v: unknown, what: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw y.error(path, `${what} must be a list.`);
  return v;
}

export function expectKeys(y: YamlFile, path: Path, obj: Record<string, unknown>, allowed: readonly string[], what: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      throw y.error([...path, key], `unknown key '${key}' in ${what}. Allowed keys: ${allowed.join(', ')}.`);
    }
  }
}

export function expectString(y: YamlFile, path: Path, v: unknown, what: string, required = false): string | undefined {
  if (v === undefined || v === null) {
    if (required) throw y.error(path, `${what} is required.`);
    return undefined;
  }
  if (typeof v !== 'string' && typeof v !== 'number') throw y.error(path, `${what} must be a string.`);
  return String(v);
}

export function expectStringList(y: YamlFile, path: Path, v: unknown, what: string): string[] {
  return expectList(y, path, v, what).map((item, i) => expectString(y, [...path, i], item, `${what}[${i}]`, true)!);
}

export function expectDuration(y: YamlFile, path: Path, v: unknown, what: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  const s = parseDuration(v);
  if (s === undefined) throw y.error(path, `${what} must be ${DURATION_HELP}, not '${String(v)}'.`);
  return s;
}

export const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function expectName(y: YamlFile, path: Path, v: unknown, what: string): string {
  const name = expectString(y, path, v, what, true)!;
  if (!NAME_PATTERN.test(name)) throw y.error(path, `${what} '${name}' must be letters, digits and underscores, not starting with a digit.`);
  return name;
}
