/** `env_var('NAME', 'default')` for profiles and templates, as in dbt. */
import nunjucks from 'nunjucks';
import { registerSecret } from '../secrets.js';

export class MissingEnvVar extends Error {
  constructor(readonly variable: string) {
    super(`environment variable ${variable} is not set and env_var() gave no default. Export ${variable} or pass a default: env_var('${variable}', '...').`);
  }
}

export function envVar(name: string, fallback?: unknown): string {
  const value = process.env[name];
  if (value !== undefined) {
    if (name.startsWith('FSQL_SECRET_')) registerSecret(value);
    return value;
  }
  if (fallback === undefined) throw new MissingEnvVar(name);
  return String(fallback);
}

const env = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: false });

/** Renders a YAML string value that holds `{{ ... }}`; other values pass through. */
export function renderValue(value: string, globals: Record<string, unknown> = {}): string {
  if (!value.includes('{{') && !value.includes('{%')) return value;
  return env.renderString(value, { env_var: envVar, ...globals });
}

/** The message of an error thrown while rendering, without nunjucks' wrapping. */
export function renderErrorMessage(e: unknown): string {
  const err = e as Error & { cause?: unknown };
  const msg = String(err.message ?? err);
  const inner = /Error: ([^\n]+)\s*$/.exec(msg);
  return (inner ? inner[1] : msg.split('\n').pop() ?? msg).trim();
}
