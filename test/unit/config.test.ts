import { ConfigError, loadConfig } from '../../src/config.js';
import { parseDurationSeconds } from '../../src/lib/duration.js';

const SECRET = 'k'.repeat(32);

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('configuration defaults follow the contract', () => {
  it('gives every variable its documented default', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      issuer: 'http://localhost:3000',
      databaseUrl: undefined,
      dataDir: './data',
      accessTokenTtl: 15 * 60,
      refreshTokenTtl: 30 * 86400,
      refreshTokenIdleTtl: 14 * 86400,
      keyRotationInterval: 30 * 86400,
      keyPublishAhead: 86400,
      keyEncryptionSecret: undefined,
      refreshReuseGrace: 0,
      lockoutThreshold: 5,
      lockoutGlobalThreshold: 50,
      lockoutDuration: 60,
      rateLimitPerIp: 600,
      trustProxy: false,
      webConcurrency: 1,
      logLevel: 'info',
      metricsToken: undefined,
      consoleEnabled: true,
    });
    expect(loadConfig({ METRICS_TOKEN: SECRET }).metricsToken).toBe(SECRET);
    expect(loadConfig({}).redisUrl).toBeUndefined();
    expect(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }).redisUrl).toBe('redis://127.0.0.1:6379');
  });

  it('derives the default issuer from PORT, and takes ISSUER as given without a trailing slash', () => {
    expect(loadConfig({ PORT: '8080' }).issuer).toBe('http://localhost:8080');
    // PORT=0 (any free port): no default issuer can name a port not chosen yet.
    expect(() => loadConfig({ PORT: '0' })).toThrow(/^ISSUER: required with PORT=0/);
    expect(loadConfig({ PORT: '0', ISSUER: 'https://auth.example.com' })).toMatchObject({ port: 0, issuer: 'https://auth.example.com' });
    expect(loadConfig({ ISSUER: 'https://auth.example.com/' }).issuer).toBe('https://auth.example.com');
    expect(loadConfig({ ISSUER: 'https://example.com/auth' }).issuer).toBe('https://example.com/auth');
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ ACCESS_TOKEN_TTL: '', PORT: '' })).toMatchObject({ accessTokenTtl: 900, port: 3000 });
  });

  it('returns a frozen object', () => {
    expect(Object.isFrozen(loadConfig({}))).toBe(true);
  });

  it('reads TRUST_PROXY as a boolean and turns features off with 0', () => {
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '0' }).trustProxy).toBe(false);
    expect(loadConfig({ LOCKOUT_THRESHOLD: '0', RATE_LIMIT_PER_IP: '0' })).toMatchObject({ lockoutThreshold: 0, rateLimitPerIp: 0 });
  });

  it('reads CONSOLE_ENABLED as a boolean', () => {
    expect(loadConfig({ CONSOLE_ENABLED: 'false' }).consoleEnabled).toBe(false);
    expect(loadConfig({ CONSOLE_ENABLED: '0' }).consoleEnabled).toBe(false);
    expect(loadConfig({ CONSOLE_ENABLED: '1' }).consoleEnabled).toBe(true);
  });
});

describe('LOCKOUT_GLOBAL_THRESHOLD follows LOCKOUT_THRESHOLD', () => {
  it('defaults to 10 × LOCKOUT_THRESHOLD, and so is off when LOCKOUT_THRESHOLD is', () => {
    expect(loadConfig({ LOCKOUT_THRESHOLD: '3' }).lockoutGlobalThreshold).toBe(30);
    expect(loadConfig({ LOCKOUT_THRESHOLD: '0' }).lockoutGlobalThreshold).toBe(0);
  });

  it('takes a value of its own: at least LOCKOUT_THRESHOLD, or 0 for off', () => {
    expect(loadConfig({ LOCKOUT_THRESHOLD: '3', LOCKOUT_GLOBAL_THRESHOLD: '3' }).lockoutGlobalThreshold).toBe(3);
    expect(loadConfig({ LOCKOUT_THRESHOLD: '3', LOCKOUT_GLOBAL_THRESHOLD: '0' }).lockoutGlobalThreshold).toBe(0);
    expect(loadConfig({ LOCKOUT_THRESHOLD: '0', LOCKOUT_GLOBAL_THRESHOLD: '100' })).toMatchObject({ lockoutThreshold: 0, lockoutGlobalThreshold: 100 });
  });

  it('refuses a value below LOCKOUT_THRESHOLD, naming LOCKOUT_GLOBAL_THRESHOLD', () => {
    const error = configError({ LOCKOUT_THRESHOLD: '5', LOCKOUT_GLOBAL_THRESHOLD: '4' });
    expect(error.variable).toBe('LOCKOUT_GLOBAL_THRESHOLD');
    expect(error.message).toContain('LOCKOUT_GLOBAL_THRESHOLD');
    expect(error.message).toContain('"4"');
  });
});

describe('durations may be written as seconds or with a unit', () => {
  it.each([
    ['900', 900],
    ['900s', 900],
    ['15m', 900],
    ['1h', 3600],
    ['1d', 86400],
    ['1s', 1],
    ['30d', 30 * 86400],
  ])('reads %s as %i seconds', (text, seconds) => {
    expect(loadConfig({ ACCESS_TOKEN_TTL: text }).accessTokenTtl).toBe(seconds);
    expect(parseDurationSeconds(text)).toBe(seconds);
  });

  it('applies the same forms to every duration variable', () => {
    const config = loadConfig({
      REFRESH_TOKEN_TTL: '1h',
      REFRESH_TOKEN_IDLE_TTL: '900',
      KEY_ROTATION_INTERVAL: '1d',
      KEY_PUBLISH_AHEAD: '15m',
      REFRESH_REUSE_GRACE: '2s',
      LOCKOUT_DURATION: '30s',
    });
    expect(config).toMatchObject({
      refreshTokenTtl: 3600,
      refreshTokenIdleTtl: 900,
      keyRotationInterval: 86400,
      keyPublishAhead: 900,
      refreshReuseGrace: 2,
      lockoutDuration: 30,
    });
  });
});

describe('a bad value is a ConfigError naming the variable', () => {
  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['ISSUER', 'ftp://auth.example.com'],
    ['ISSUER', 'https://auth.example.com/?x=1'],
    ['ISSUER', 'auth.example.com'],
    ['DATABASE_URL', 'mysql://localhost/db'],
    ['ACCESS_TOKEN_TTL', 'abc'],
    ['ACCESS_TOKEN_TTL', '0'],
    ['ACCESS_TOKEN_TTL', '-5'],
    ['ACCESS_TOKEN_TTL', '15 parsecs'],
    ['ACCESS_TOKEN_TTL', '1.5'],
    ['REFRESH_TOKEN_TTL', '99999999999999999'],
    ['REFRESH_TOKEN_IDLE_TTL', '10000000y'],
    ['KEY_ROTATION_INTERVAL', 'never'],
    ['KEY_PUBLISH_AHEAD', '0s'],
    ['REFRESH_REUSE_GRACE', 'off'],
    ['KEY_ENCRYPTION_SECRET', 'too-short'],
    ['LOCKOUT_THRESHOLD', 'five'],
    ['LOCKOUT_GLOBAL_THRESHOLD', '-1'],
    ['RATE_LIMIT_PER_IP', '-1'],
    ['TRUST_PROXY', 'yes'],
    ['CONSOLE_ENABLED', 'off'],
    ['WEB_CONCURRENCY', '0'],
    ['LOG_LEVEL', 'loud'],
    ['METRICS_TOKEN', 'shorter-than-32-characters'],
    ['METRICS_TOKEN', 'a metrics token with spaces in it, long enough'],
    ['REDIS_URL', 'http://127.0.0.1:6379'],
  ])('refuses %s=%j', (variable, value) => {
    const error = configError({ [variable]: value });
    expect(error.variable).toBe(variable);
    expect(error.message).toContain(variable);
    expect(error.message).not.toContain('\n');
  });

  it('refuses DATABASE_URL without KEY_ENCRYPTION_SECRET, naming the missing secret', () => {
    const error = configError({ DATABASE_URL: 'postgres://gatehouse@db.example.com/gatehouse' });
    expect(error.variable).toBe('KEY_ENCRYPTION_SECRET');
    expect(loadConfig({ DATABASE_URL: 'postgres://gatehouse@db.example.com/gatehouse', KEY_ENCRYPTION_SECRET: SECRET }).databaseUrl).toBe(
      'postgres://gatehouse@db.example.com/gatehouse',
    );
  });

  it('does not repeat a secret value in the message', () => {
    const error = configError({ KEY_ENCRYPTION_SECRET: 'my-short-secret' });
    expect(error.message).not.toContain('my-short-secret');
    const urlError = configError({ DATABASE_URL: 'mysql://user:hunter2@localhost/db' });
    expect(urlError.message).not.toContain('hunter2');
    const metricsError = configError({ METRICS_TOKEN: 'short-metrics-token' });
    expect(metricsError.variable).toBe('METRICS_TOKEN');
    expect(metricsError.message).not.toContain('short-metrics-token');
    const redisError = configError({ REDIS_URL: 'tcp://:hunter3@redis.example' });
    expect(redisError.variable).toBe('REDIS_URL');
    expect(redisError.message).not.toContain('hunter3');
  });
});

describe('CLIENT_ASSERTION_MAX_LIFETIME', () => {
  it('defaults to 5 minutes, takes a duration up to an hour, and refuses more', () => {
    expect(loadConfig({}).clientAssertionMaxLifetime).toBe(300);
    expect(loadConfig({ CLIENT_ASSERTION_MAX_LIFETIME: '10m' }).clientAssertionMaxLifetime).toBe(600);
    expect(configError({ CLIENT_ASSERTION_MAX_LIFETIME: '2h' }).variable).toBe('CLIENT_ASSERTION_MAX_LIFETIME');
  });
});
