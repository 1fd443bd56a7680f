/**
 * snowflake-sdk errors -> WarehouseError messages a user can act on, and which errors are
 * transient (worth another attempt). Codes are Snowflake's: 39xxxx from the login service,
 * 00xxxx/09xxxx from SQL execution; 401xxx/402xxx are the SDK's own network and HTTP errors.
 */
import { WarehouseError } from '../errors.js';
import type { SnowflakeSettings } from './snowflake-options.js';

export interface ErrorContext {
  settings: SnowflakeSettings;
  profileFile: string;
  targetName: string;
  /** the view file (or other label) the statement belongs to */
  label?: string;
  /** the statement, for errors that have no label */
  sql?: string;
  /** attempts made, when more than one */
  attempts?: number;
}

interface SdkError {
  name?: string;
  code?: string | number;
  message?: string;
  sqlState?: string;
  response?: { statusCode?: number; status?: number };
  cause?: { code?: string; message?: string };
}

/** A login attempt that took longer than connect_timeout. */
export class ConnectTimeout extends Error {
  constructor(readonly ms: number) {
    super(`no answer within ${ms / 1000}s (connect_timeout)`);
  }
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'EPIPE', 'ECONNABORTED', 'ENETUNREACH', 'EHOSTUNREACH']);

function httpStatus(e: SdkError): number | undefined {
  return e.response?.statusCode ?? e.response?.status;
}

/** Network failures, timeouts, HTTP 5xx/408/429 from Snowflake or its result storage. */
export function isTransient(err: unknown): boolean {
  if (err instanceof ConnectTimeout) return true;
  const e = err as SdkError;
  if (!e || typeof e !== 'object') return false;
  const code = String(e.code ?? '');
  if (code === '401001' || code === '402001') return true;
  if (code === '401002' || code === '402002' || code === '401003') {
    const status = httpStatus(e);
    return status === undefined || status >= 500 || status === 408 || status === 429;
  }
  if (NETWORK_CODES.has(code) || NETWORK_CODES.has(String(e.cause?.code ?? ''))) return true;
  return false;
}

/** An error Snowflake itself returned (it has a Snowflake error code), as opposed to a network failure. */
export function isDatabaseError(err: unknown): boolean {
  const code = String((err as SdkError)?.code ?? '');
  return /^\d{6}$/.test(code) && !code.startsWith('40');
}

export function toWarehouseError(err: unknown, ctx: ErrorContext): WarehouseError {
  if (err instanceof WarehouseError) return err;
  const e = (err ?? {}) as SdkError;
  const id = ctx.settings.identity;
  const where = `${ctx.profileFile}, output '${ctx.targetName}'`;
  const role = id.role ? `role ${id.role}` : "the user's default role";
  const code = String(e.code ?? '');
  const raw = (e.message ?? String(err)).trim();
  const prefix = ctx.label ? `${ctx.label}: ` : '';
  const tag = code && /^\d+$/.test(code) ? ` ${code}${e.sqlState ? ` (${e.sqlState})` : ''}` : '';
  const said = `Snowflake error${tag}: ${raw}`;

  if (isTransient(err)) {
    const tries = ctx.attempts && ctx.attempts > 1 ? ` after ${ctx.attempts} attempts` : '';
    const status = httpStatus(e);
    const what = err instanceof ConnectTimeout ? raw : status ? `HTTP ${status} from Snowflake` : raw;
    return new WarehouseError(
      `${prefix}Snowflake did not answer${tries} (${what}) at ${endpoint(ctx.settings)}. It may be unavailable or unreachable from here; try again later, or raise connect_retries in ${where} to retry longer.`,
    );
  }
  switch (code) {
    case '390100':
      return new WarehouseError(`Snowflake rejected the login of user '${id.user}' on account '${id.account}': ${raw} Check user: and password: in ${where} (and the environment variables they read).`);
    case '390144':
    case '394304':
      return new WarehouseError(`Snowflake rejected the key-pair login of user '${id.user}' on account '${id.account}': ${raw} Check that private_key_path / private_key in ${where} is the key whose public half is set on the user (ALTER USER ${id.user} SET RSA_PUBLIC_KEY = '...').`);
    case '390303':
    case '390318':
    case '390195':
      return new WarehouseError(`Snowflake rejected the token of user '${id.user}' on account '${id.account}': ${raw} Get a fresh token and set token: in ${where}.`);
    case '390189':
      return new WarehouseError(`Snowflake refused role '${id.role ?? ''}' for user '${id.user}': ${raw} Grant it (GRANT ROLE ${id.role ?? '<role>'} TO USER ${id.user}) or set role: in ${where} to a role the user has.`);
    case '390201':
      return new WarehouseError(`${said} Check database: '${id.database ?? ''}', schema: '${id.schema}' and warehouse: '${id.warehouse ?? ''}' in ${where}; if they exist, ${role} needs USAGE on them (GRANT USAGE ON DATABASE ${id.database ?? '<database>'} TO ROLE ${id.role ?? '<role>'}; GRANT USAGE ON WAREHOUSE ${id.warehouse ?? '<warehouse>'} TO ROLE ${id.role ?? '<role>'}).`);
    case '000606':
      return new WarehouseError(`${prefix}${said} Set warehouse: in ${where} to a warehouse ${role} may use (GRANT USAGE ON WAREHOUSE ${id.warehouse ?? '<warehouse>'} TO ROLE ${id.role ?? '<role>'}).`);
    case '090105':
    case '090106':
      return new WarehouseError(`${prefix}${said} Check database: and schema: in ${where}; ${role} needs USAGE on both.`);
    case '003001':
    case '003011':
      return new WarehouseError(`${prefix}${said} ${role} lacks a privilege this statement needs. README.md (Production: Snowflake) lists the grants fsql needs: USAGE on the warehouse, database and schema, CREATE TABLE, CREATE VIEW, CREATE STAGE and CREATE FILE FORMAT on the schema, SELECT on the source tables.`);
    case '002003':
      return new WarehouseError(`${prefix}${said} Check the name (a source's database/schema/identifier in YAML, or a ref()) and that ${role} can see it (USAGE on its database and schema, SELECT on the table).`);
  }
  if (/^39\d{4}$/.test(code)) return new WarehouseError(`Snowflake refused the login of user '${id.user}' on account '${id.account}': ${raw} Check the credentials in ${where}.`);
  if (/^40\d{4}$/.test(code)) return new WarehouseError(`${prefix}snowflake-sdk: ${raw} Check the snowflake output in ${ctx.profileFile} ('${ctx.targetName}').`);
  const shown = !ctx.label && ctx.sql ? ` (while running: ${firstLine(ctx.sql)})` : '';
  return new WarehouseError(`${prefix}${said}${shown}`);
}

function endpoint(s: SnowflakeSettings): string {
  const o = s.options as { accessUrl?: string; host?: string; account?: string };
  return o.accessUrl ?? o.host ?? `${o.account}.snowflakecomputing.com`;
}

function firstLine(sql: string): string {
  const line = sql.trim().split('\n')[0];
  return line.length > 100 ? `${line.slice(0, 100)}…` : line;
}
