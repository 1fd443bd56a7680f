/** dbt-snowflake profile keys -> snowflake-sdk options: every key, each authenticator, the refusals. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, createPrivateKey } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { FsqlError, WarehouseError } from '../src/errors.js';
import { loadProject } from '../src/project/load.js';
import type { Target } from '../src/project/types.js';
import { redact } from '../src/secrets.js';
import { snowflakeSettings } from '../src/warehouse/snowflake-options.js';
import { makeProject } from './helpers/project.js';

function target(settings: Record<string, unknown>): Target {
  return {
    name: 'sf',
    type: 'snowflake',
    schema: String(settings.schema ?? 'FEATURES'),
    database: 'ANALYTICS',
    threads: 1,
    settings: { type: 'snowflake', account: 'xy12345.us-east-1', user: 'fsql', database: 'ANALYTICS', schema: 'FEATURES', ...settings },
    onlineStore: { type: 'sqlite' },
    serve: { auth: false },
    profileFile: 'profiles.yml',
  };
}

function refused(settings: Record<string, unknown>, pattern: RegExp): void {
  assert.throws(() => snowflakeSettings(target(settings), '/proj'), (e: unknown) => e instanceof WarehouseError && pattern.test(e.message));
}

test('every dbt-snowflake key is translated to its snowflake-sdk option by name', () => {
  const s = snowflakeSettings(
    target({
      threads: 4,
      password: 'pw-secret',
      role: 'TRANSFORMER',
      warehouse: 'COMPUTE_WH',
      query_tag: 'fsql',
      client_session_keep_alive: true,
      connect_retries: 3,
      connect_timeout: 20,
      retry_on_database_errors: true,
      retry_all: false,
      reuse_connections: false,
      host: 'xy12345.privatelink.snowflakecomputing.com',
      port: 8443,
      protocol: 'https',
      online_store: { type: 'redis', url: 'redis://r:6379' },
    }),
    '/proj',
  );
  assert.deepEqual(s.options, {
    application: 'fsql',
    sfRetryMaxLoginRetries: 0,
    representNullAsStringNull: false,
    validateDefaultParameters: false,
    account: 'xy12345.us-east-1',
    username: 'fsql',
    password: 'pw-secret',
    authenticator: 'SNOWFLAKE',
    role: 'TRANSFORMER',
    warehouse: 'COMPUTE_WH',
    database: 'ANALYTICS',
    schema: 'FEATURES',
    queryTag: 'fsql',
    clientSessionKeepAlive: true,
    host: 'xy12345.privatelink.snowflakecomputing.com',
    port: 8443,
    protocol: 'https',
  });
  assert.equal(s.connectRetries, 3);
  assert.equal(s.connectTimeoutMs, 20_000);
  assert.equal(s.retryOnDatabaseErrors, true);
  assert.equal(s.retryAll, false);
  assert.equal(s.reuseConnections, false);
  assert.equal(s.externalBrowser, false);
});

test('dbt defaults: no retries, 10 s login timeout, sessions reused', () => {
  const s = snowflakeSettings(target({ password: 'pw-secret', access_url: 'http://127.0.0.1:1' }), '/proj');
  assert.equal(s.connectRetries, 0);
  assert.equal(s.connectTimeoutMs, 10_000);
  assert.equal(s.reuseConnections, true);
  assert.equal(s.options.accessUrl, 'http://127.0.0.1:1');
});

test('authenticators: key pair, externalbrowser, oauth with token, okta, mfa', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sf-opt-'));
  writeFileSync(join(dir, 'rsa_key.p8'), 'x');
  const keyPair = snowflakeSettings(target({ private_key_path: 'rsa_key.p8', private_key_passphrase: 'pass-phrase' }), dir);
  assert.equal(keyPair.options.authenticator, 'SNOWFLAKE_JWT');
  assert.equal(keyPair.options.privateKeyPath, join(dir, 'rsa_key.p8'), 'relative to the project folder');
  assert.equal(keyPair.options.privateKeyPass, 'pass-phrase');
  const browser = snowflakeSettings(target({ authenticator: 'externalbrowser' }), '/proj');
  assert.equal(browser.options.authenticator, 'EXTERNALBROWSER');
  assert.equal(browser.externalBrowser, true);
  const oauth = snowflakeSettings(target({ authenticator: 'oauth', token: 'tok-123456' }), '/proj');
  assert.deepEqual([oauth.options.authenticator, oauth.options.token], ['OAUTH', 'tok-123456']);
  assert.equal(snowflakeSettings(target({ authenticator: 'https://acme.okta.com', password: 'pw-secret' }), '/proj').options.authenticator, 'https://acme.okta.com');
  assert.equal(snowflakeSettings(target({ authenticator: 'username_password_mfa', password: 'pw-secret' }), '/proj').options.authenticator, 'USERNAME_PASSWORD_MFA');
});

test('private_key as base64 DER (encrypted) becomes PEM, decrypted with the passphrase, and is a secret', () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const der = privateKey.export({ format: 'der', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'pass-phrase' }).toString('base64');
  const s = snowflakeSettings(target({ private_key: der, private_key_passphrase: 'pass-phrase' }), '/proj');
  assert.equal(s.options.authenticator, 'SNOWFLAKE_JWT');
  assert.match(s.options.privateKey!, /^-----BEGIN PRIVATE KEY-----\n/);
  assert.equal(s.options.privateKeyPass, undefined, 'the passphrase did its work already');
  assert.deepEqual(createPrivateKey(s.options.privateKey!).export({ format: 'der', type: 'pkcs8' }), privateKey.export({ format: 'der', type: 'pkcs8' }));
  assert.equal(redact(`key: ${s.options.privateKey}`), 'key: ****');
  assert.equal(redact(s.options.privateKey!.split('\n')[3]), '****');
  // a PEM kept in an environment variable with \n written out
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString().trim().replace(/\n/g, '\\n');
  assert.match(snowflakeSettings(target({ private_key: pem }), '/proj').options.privateKey!, /^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/]/);
  refused({ private_key: der, private_key_passphrase: 'wrong-phrase' }, /could not be read as base64 PKCS#8 DER with the given private_key_passphrase/);
});

test('missing credentials, unknown authenticators and unknown keys are refused with the file named', () => {
  refused({}, /^profiles\.yml: snowflake output 'sf' uses authenticator snowflake and needs 'password:'/);
  refused({ authenticator: 'oauth' }, /needs 'token:'/);
  refused({ authenticator: 'saml', password: 'pw-secret' }, /authenticator 'saml' of snowflake output 'sf' is not supported/);
  refused({ password: 'pw-secret', private_key_file: '/k.p8' }, /^profiles\.yml: unknown key 'private_key_file' in snowflake output 'sf'\. Allowed keys: .*private_key_path/);
  refused({ private_key_path: '/no/such/key.p8' }, /private_key_path '\/no\/such\/key\.p8' of the snowflake output is not a file/);
  refused({ password: 'pw-secret', connect_retries: -1 }, /'connect_retries:' of the snowflake output must be a whole number/);
  refused({ password: 'pw-secret', retry_all: 'yes' }, /'retry_all:' of the snowflake output must be true or false/);
  refused({ password: 'pw-secret', protocol: 'ftp' }, /'protocol:' of the snowflake output must be https or http/);
  refused({ password: 'pw-secret', private_key_passphrase: 'pp-1234' }, /'private_key_passphrase:' .* is set but no private_key_path: or private_key: is/);
});

test('profiles.yml itself refuses a key dbt-snowflake does not have, naming file and key', () => {
  const dir = makeProject({
    'profiles.yml': stringify({ proj: { target: 'sf', outputs: { sf: { type: 'snowflake', account: 'a', user: 'u', database: 'D', schema: 'S', private_key_file: '/k.p8' } } } }),
  });
  assert.throws(() => loadProject({ projectDir: dir }), (e: unknown) => e instanceof FsqlError && /profiles\.yml:\d+: unknown key 'private_key_file'/.test(e.message));
});
