/**
 * Every secret fsql learns (profile passwords, keys, tokens, values of FSQL_SECRET_* variables)
 * is registered here, and every message that leaves the process passes through redact().
 */
const secrets = new Set<string>();

export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) secrets.add(value);
}

export function registerSecretEnv(env: NodeJS.ProcessEnv = process.env): void {
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith('FSQL_SECRET_')) registerSecret(value);
  }
}

export function redact(text: string): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join('****');
  return out.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s/]+@/gi, '$1****@');
}

/** A URL fit for messages: the password replaced. */
export function safeUrl(url: string): string {
  return redact(url);
}
