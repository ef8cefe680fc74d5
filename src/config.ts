import { Ajv } from 'ajv';
import { parseDurationSeconds } from './lib/duration.js';

/** Configuration, parsed and validated once at start, then passed explicitly. */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly issuer: string;
  /** ISSUER was not set: the issuer is the default http://localhost:$PORT. */
  readonly issuerDefaulted?: boolean;
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  /** Seconds. */
  readonly accessTokenTtl: number;
  readonly refreshTokenTtl: number;
  readonly refreshTokenIdleTtl: number;
  readonly keyRotationInterval: number;
  readonly keyPublishAhead: number;
  readonly refreshReuseGrace: number;
  readonly lockoutDuration: number;
  /** Unset only for the embedded database, where it is generated into DATA_DIR. */
  readonly keyEncryptionSecret: string | undefined;
  readonly lockoutThreshold: number;
  /** Failed passwords for one username from all IPs together before it locks for every source; 0 = off. */
  readonly lockoutGlobalThreshold: number;
  readonly rateLimitPerIp: number;
  /** Redis for the per-IP counters (shared and exact across instances), or undefined. */
  readonly redisUrl: string | undefined;
  readonly trustProxy: boolean;
  readonly webConcurrency: number;
  readonly logLevel: string;
  /** Origins allowed by CORS; empty means no CORS headers at all. */
  readonly corsOrigins: readonly string[];
  /** Bearer token GET /metrics requires; unset leaves /metrics open. */
  readonly metricsToken: string | undefined;
  readonly passwordMinLength: number;
  /** Seconds. */
  readonly auditRetention: number;
  /** Seconds: how far ahead of now a private_key_jwt client assertion's exp may be (RFC 7523). */
  readonly clientAssertionMaxLifetime: number;
  /** Serve the admin console at /console (and make sure its client exists at start). */
  readonly consoleEnabled: boolean;
  /** Every DPoP proof at /token must carry a current server nonce (RFC 9449 §8). */
  readonly dpopNonce: boolean;
  /** Seconds: `ttl` of status list tokens and their max-age. */
  readonly statusListTtl: number;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

const DURATION = { type: 'string', format: 'duration' } as const;
const WHOLE_NUMBER = { type: 'string', pattern: '^[0-9]{1,9}$' } as const;

/** The environment variables Gatehouse reads, with their defaults and what each expects. */
export const CONFIG_VARIABLES = {
  PORT: { schema: { type: 'string', pattern: '^[0-9]{1,5}$' }, default: '3000', expects: 'a TCP port (0-65535)', meaning: 'port to listen on' },
  HOST: { schema: { type: 'string', minLength: 1 }, default: '127.0.0.1', expects: 'a host name or address', meaning: 'address to listen on' },
  ISSUER: {
    schema: { type: 'string', pattern: '^https?://[^\\s?#]+$' },
    default: undefined,
    expects: 'an http(s) URL without query or fragment',
    meaning: '`iss` of every token and base of every metadata URL (default http://localhost:$PORT)',
  },
  DATABASE_URL: {
    schema: { type: 'string', pattern: '^postgres(ql)?://' },
    default: undefined,
    expects: 'a postgres:// connection string',
    meaning: 'PostgreSQL connection string; unset → embedded PGlite in DATA_DIR',
  },
  DATA_DIR: { schema: { type: 'string', minLength: 1 }, default: './data', expects: 'a directory path', meaning: 'embedded database directory' },
  ACCESS_TOKEN_TTL: { schema: DURATION, default: '15m', expects: 'a duration such as 900, 900s, 15m, 1h', meaning: 'access token lifetime' },
  REFRESH_TOKEN_TTL: { schema: DURATION, default: '30d', expects: 'a duration such as 30d', meaning: 'absolute lifetime of a refresh grant' },
  REFRESH_TOKEN_IDLE_TTL: { schema: DURATION, default: '14d', expects: 'a duration such as 14d', meaning: 'a refresh token unused this long expires' },
  KEY_ROTATION_INTERVAL: {
    schema: DURATION,
    default: '30d',
    expects: 'a duration such as 30d',
    meaning: 'how long a key signs before the next one takes over',
  },
  KEY_PUBLISH_AHEAD: {
    schema: DURATION,
    default: '1d',
    expects: 'a duration such as 1d',
    meaning: 'how long a new key is in the JWKS before it signs anything',
  },
  KEY_ENCRYPTION_SECRET: {
    schema: { type: 'string', minLength: 32 },
    default: undefined,
    expects: 'a string of at least 32 characters',
    meaning: 'encrypts private keys at rest; generated into DATA_DIR for embedded use, required with DATABASE_URL',
  },
  REFRESH_REUSE_GRACE: {
    schema: { type: 'string', anyOf: [{ const: '0' }, { format: 'duration' }] },
    default: '0',
    expects: 'a duration, or 0 for off',
    meaning: 'window in which a retried refresh returns the same successor instead of counting as reuse',
  },
  CLIENT_ASSERTION_MAX_LIFETIME: {
    schema: DURATION,
    default: '5m',
    expects: 'a duration from 1s to 1h',
    meaning: 'how far ahead of now the exp of a private_key_jwt client assertion may be',
  },
  LOCKOUT_THRESHOLD: {
    schema: WHOLE_NUMBER,
    default: '5',
    expects: 'a whole number (0 = off)',
    meaning: "consecutive failed passwords for one username from one client IP before that username's logins from that IP lock",
  },
  LOCKOUT_GLOBAL_THRESHOLD: {
    schema: WHOLE_NUMBER,
    default: undefined,
    expects: 'a whole number, at least LOCKOUT_THRESHOLD (0 = off)',
    meaning: 'failed passwords for one username from all IPs together before it locks for every source (default 10 × LOCKOUT_THRESHOLD)',
  },
  LOCKOUT_DURATION: { schema: DURATION, default: '1m', expects: 'a duration such as 1m', meaning: 'first lock; each further lock doubles it, up to 1h' },
  RATE_LIMIT_PER_IP: { schema: WHOLE_NUMBER, default: '600', expects: 'a whole number (0 = off)', meaning: 'requests per minute per client IP at /token' },
  REDIS_URL: {
    schema: { type: 'string', pattern: '^rediss?://' },
    default: undefined,
    expects: 'a redis:// or rediss:// URL',
    meaning: 'Redis server holding the per-IP request counters (RATE_LIMIT_PER_IP), shared by every instance',
  },
  TRUST_PROXY: {
    schema: { type: 'string', enum: ['true', 'false', '1', '0'] },
    default: 'false',
    expects: 'true or false',
    meaning: 'take the client IP from X-Forwarded-For',
  },
  WEB_CONCURRENCY: {
    schema: { type: 'string', pattern: '^[1-9][0-9]{0,2}$' },
    default: '1',
    expects: 'a whole number from 1 to 999',
    meaning: 'worker processes (node:cluster)',
  },
  CORS_ORIGINS: {
    schema: { type: 'string', pattern: '^\\s*(https?://[^\\s,/]+[\\s,]*)*$' },
    default: '',
    expects: 'origins such as https://app.example, separated by commas or spaces',
    meaning: 'browser origins allowed to call /token, /introspect and /revoke (CORS); empty = CORS off',
  },
  METRICS_TOKEN: {
    schema: { type: 'string', pattern: '^[\\x21-\\x7E]{32,1024}$' },
    default: undefined,
    expects: 'a string of 32 to 1024 printable ASCII characters without spaces',
    meaning: 'bearer token GET /metrics requires; unset → /metrics is open',
  },
  PASSWORD_MIN_LENGTH: {
    schema: { type: 'string', pattern: '^[1-9][0-9]{0,2}$' },
    default: '8',
    expects: 'a whole number from 1 to 999',
    meaning: 'shortest password accepted when a user is created or changes password',
  },
  AUDIT_RETENTION: { schema: DURATION, default: '90d', expects: 'a duration such as 90d', meaning: 'audit log entries older than this are deleted' },
  STATUS_LIST_TTL: {
    schema: DURATION,
    default: '1m',
    expects: 'a duration such as 1m',
    meaning:
      'ttl of status list tokens and the max-age they are served with: the longest a revocation takes to reach a resource server that follows the status list',
  },
  CONSOLE_ENABLED: {
    schema: { type: 'string', enum: ['true', 'false', '1', '0'] },
    default: 'true',
    expects: 'true or false',
    meaning: 'serve the admin console at /console',
  },
  DPOP_NONCE: {
    schema: { type: 'string', enum: ['true', 'false', '1', '0'] },
    default: 'false',
    expects: 'true or false',
    meaning: 'every DPoP proof at /token must carry a fresh server nonce (RFC 9449 §8)',
  },
  LOG_LEVEL: {
    schema: { type: 'string', enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
    default: 'info',
    expects: 'one of fatal, error, warn, info, debug, trace, silent',
    meaning: 'pino log level',
  },
} as const;

type VariableName = keyof typeof CONFIG_VARIABLES;

const SECRET_VARIABLES = new Set<string>(['KEY_ENCRYPTION_SECRET', 'DATABASE_URL', 'METRICS_TOKEN', 'REDIS_URL']);

const ajv = new Ajv({ allErrors: false });
/** Longer durations cannot be dates (a refresh grant's expiry would be Invalid Date): refused at start. */
export const MAX_DURATION_SECONDS = 100 * 365 * 86400;
ajv.addFormat('duration', {
  type: 'string',
  validate: (text: string) => {
    const seconds = parseDurationSeconds(text) ?? 0;
    return seconds > 0 && seconds <= MAX_DURATION_SECONDS;
  },
});

const validateEnvironment = ajv.compile({
  type: 'object',
  properties: Object.fromEntries(Object.entries(CONFIG_VARIABLES).map(([name, v]) => [name, v.schema])),
});

/**
 * Reads the configuration from environment-style strings (process.env, or overrides in tests).
 * Empty strings count as unset. Throws ConfigError naming the first bad variable.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const values: Partial<Record<VariableName, string>> = {};
  for (const name of Object.keys(CONFIG_VARIABLES) as VariableName[]) {
    const raw = env[name];
    const value = raw === undefined || raw === '' ? CONFIG_VARIABLES[name].default : raw;
    if (value !== undefined) values[name] = value;
  }
  if (!validateEnvironment(values)) {
    const error = validateEnvironment.errors?.[0];
    const variable = (error?.instancePath.split('/')[1] ?? 'environment') as VariableName;
    const spec = CONFIG_VARIABLES[variable];
    // Never echo a secret (or a URL that may carry a password) back into logs.
    const shown = SECRET_VARIABLES.has(variable) ? '' : `, got ${JSON.stringify(values[variable])}`;
    throw new ConfigError(variable, `expected ${spec ? spec.expects : 'a valid value'}${shown}`);
  }
  const get = (name: VariableName): string => values[name] as string;
  const seconds = (name: VariableName): number => parseDurationSeconds(get(name)) as number;
  const port = Number(get('PORT'));
  if (port > 65535) throw new ConfigError('PORT', `expected ${CONFIG_VARIABLES.PORT.expects}, got "${get('PORT')}"`);
  const databaseUrl = values.DATABASE_URL;
  if (databaseUrl && !values.KEY_ENCRYPTION_SECRET) {
    throw new ConfigError('KEY_ENCRYPTION_SECRET', 'required with DATABASE_URL (a string of at least 32 characters)');
  }
  const lockoutThreshold = Number(get('LOCKOUT_THRESHOLD'));
  const lockoutGlobalThreshold = values.LOCKOUT_GLOBAL_THRESHOLD === undefined ? 10 * lockoutThreshold : Number(values.LOCKOUT_GLOBAL_THRESHOLD);
  if (lockoutThreshold > 0 && lockoutGlobalThreshold > 0 && lockoutGlobalThreshold < lockoutThreshold) {
    throw new ConfigError(
      'LOCKOUT_GLOBAL_THRESHOLD',
      `expected at least LOCKOUT_THRESHOLD (${lockoutThreshold}), or 0 for off, got "${values.LOCKOUT_GLOBAL_THRESHOLD}"`,
    );
  }
  const clientAssertionMaxLifetime = seconds('CLIENT_ASSERTION_MAX_LIFETIME');
  if (clientAssertionMaxLifetime > 3600) {
    throw new ConfigError(
      'CLIENT_ASSERTION_MAX_LIFETIME',
      `expected ${CONFIG_VARIABLES.CLIENT_ASSERTION_MAX_LIFETIME.expects}, got "${get('CLIENT_ASSERTION_MAX_LIFETIME')}"`,
    );
  }
  if (port === 0 && values.ISSUER === undefined) {
    throw new ConfigError('ISSUER', 'required with PORT=0 (any free port): the default http://localhost:$PORT cannot name a port not chosen yet');
  }
  const issuer = (values.ISSUER ?? `http://localhost:${port}`).replace(/\/+$/, '');
  return Object.freeze({
    port,
    host: get('HOST'),
    issuer,
    issuerDefaulted: values.ISSUER === undefined,
    databaseUrl,
    dataDir: get('DATA_DIR'),
    accessTokenTtl: seconds('ACCESS_TOKEN_TTL'),
    refreshTokenTtl: seconds('REFRESH_TOKEN_TTL'),
    refreshTokenIdleTtl: seconds('REFRESH_TOKEN_IDLE_TTL'),
    keyRotationInterval: seconds('KEY_ROTATION_INTERVAL'),
    keyPublishAhead: seconds('KEY_PUBLISH_AHEAD'),
    refreshReuseGrace: get('REFRESH_REUSE_GRACE') === '0' ? 0 : seconds('REFRESH_REUSE_GRACE'),
    lockoutDuration: seconds('LOCKOUT_DURATION'),
    keyEncryptionSecret: values.KEY_ENCRYPTION_SECRET,
    lockoutThreshold,
    lockoutGlobalThreshold,
    rateLimitPerIp: Number(get('RATE_LIMIT_PER_IP')),
    redisUrl: values.REDIS_URL,
    trustProxy: get('TRUST_PROXY') === 'true' || get('TRUST_PROXY') === '1',
    webConcurrency: Number(get('WEB_CONCURRENCY')),
    logLevel: get('LOG_LEVEL'),
    corsOrigins: Object.freeze((values.CORS_ORIGINS ?? '').split(/[\s,]+/).filter((origin) => origin !== '')),
    metricsToken: values.METRICS_TOKEN,
    passwordMinLength: Number(get('PASSWORD_MIN_LENGTH')),
    auditRetention: seconds('AUDIT_RETENTION'),
    clientAssertionMaxLifetime,
    consoleEnabled: get('CONSOLE_ENABLED') === 'true' || get('CONSOLE_ENABLED') === '1',
    dpopNonce: get('DPOP_NONCE') === 'true' || get('DPOP_NONCE') === '1',
    statusListTtl: seconds('STATUS_LIST_TTL'),
  });
}
