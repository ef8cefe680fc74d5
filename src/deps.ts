import type { Logger } from 'pino';
import type { Config } from './config.js';
import { createTokenEndpointDpop, type TokenEndpointDpop } from './dpop/token-endpoint-proofs.js';
import type { KeyService } from './keys/key-service.js';
import { createKeyService } from './keys/policy.js';
import type { NewKeyPair } from './keys/rotation.js';
import { systemClock, type Clock } from './lib/clock.js';
import { createLogger } from './logger.js';
import { createClientKeysRegistry } from './client-assertions/client-keys.js';
import { createClientAssertionAuthentication, type ClientAssertionAuthentication } from './services/client-assertion-authentication.js';
import { createAccessTokenStanding, type AccessTokenStanding } from './services/access-token-standing.js';
import { createClientAuthentication, type ClientAuthentication } from './services/client-authentication.js';
import { followClientChanges } from './services/client-changes.js';
import type { ClientChangeListener } from './store/client-change-notifications.js';
import { createMetrics, type Metrics } from './services/metrics.js';
import { connectRedis } from './services/redis-connection.js';
import { createReplayCache, type ReplayCache } from './services/replay-cache.js';
import { createAccessTokenVerifier, type AccessTokenVerifier } from './tokens/access-token-verification.js';
import { StatusListAllocator, StatusListPublisher } from './services/status-lists.js';
import { createThrottle, type Throttle } from './services/throttle.js';
import type { Database } from './store/database.js';
import { deriveRefreshTokenSecret } from './tokens/refresh-token.js';

/** The composition root: every service the HTTP layer, the grants and the CLI use. */
export interface Deps {
  config: Config;
  db: Database;
  clock: Clock;
  keys: KeyService;
  logger: Logger;
  metrics: Metrics;
  throttle: Throttle;
  /** Client credentials checks, with a short cache of successes that client changes empty. */
  clientAuthentication: ClientAuthentication;
  /** PostgreSQL: follows client changes made elsewhere (another instance, the CLI); close it on shutdown. */
  clientChanges: ClientChangeListener;
  /** private_key_jwt client authentication (RFC 7523), with the cache of clients' jwks_uri key sets. */
  clientAssertions: ClientAssertionAuthentication;
  /** Access token revocation checks, concurrent ones coalesced into one statement. */
  accessTokenStanding: AccessTokenStanding;
  /** Keys the derivation of a refresh token's successor (see tokens/refresh-token.ts). */
  refreshTokenSecret: Buffer;
  /** Token Status List: indices for new tokens, and the signed lists served from memory. */
  statusLists: { allocator: StatusListAllocator; publisher: StatusListPublisher };
  /**
   * `iss` values of tokens signed by our keys but naming another issuer (instances configured with
   * different ISSUER values): each is logged once, not once per request.
   */
  foreignIssuersSeen: Set<string>;
  /** Signature and claims of our own access tokens, remembered per token (src/tokens/access-token-verification.ts). */
  accessTokens: AccessTokenVerifier;
  /** One-time values (DPoP proof and client assertion jtis) across every instance: PostgreSQL, or memory when embedded. */
  replayCache: ReplayCache;
  /** DPoP proofs at /token (RFC 9449): key cache, server nonces, the replay check. */
  dpop: TokenEndpointDpop;
}

/** Builds the services and loads (or creates) the signing keys. Migrations must have run. */
export async function createDeps(
  config: Config,
  db: Database,
  options: {
    clock?: Clock;
    logger?: Logger;
    /** Tests: how long a client authentication is remembered. */
    clientAuthCacheTtlMs?: number;
    /** Tests: key pairs made beforehand for new signing keys (an RSA key takes a quarter of a second or more). */
    newKeyPair?: NewKeyPair;
  } = {},
): Promise<Deps> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger(config.logLevel);
  const keys = createKeyService(config, db, clock, options.newKeyPair);
  await keys.initialize();
  const metrics = createMetrics(db, keys, clock);
  // REDIS_URL: one connection for the per-IP counters and the replay cache (the throttle closes it).
  const redis = config.redisUrl ? connectRedis(config.redisUrl) : undefined;
  const throttle = createThrottle(config, db, (limit) => metrics.rateLimitRejections.inc({ limit }), redis);
  await throttle.ready();
  const refreshTokenSecret = deriveRefreshTokenSecret(config.keyEncryptionSecret as string);
  const replayCache = createReplayCache(db, clock, redis?.client);
  const clientAuthentication = createClientAuthentication(db, undefined, options.clientAuthCacheTtlMs);
  // PostgreSQL: changes to clients made elsewhere empty this instance's cache when they commit.
  const clientChanges = await followClientChanges(config.databaseUrl, clientAuthentication, logger);
  const clientAssertions = createClientAssertionAuthentication({
    clients: clientAuthentication,
    clock,
    issuer: config.issuer,
    maxLifetimeSeconds: config.clientAssertionMaxLifetime,
    clientKeys: createClientKeysRegistry({
      clock,
      // The URI without its query, which could carry a credential of the client's.
      onFetchFailure: (uri, problem) =>
        logger.warn({ jwksUri: uri.replace(/[?#].*$/s, ''), problem }, 'a client jwks_uri could not be fetched: assertions its keys sign fail meanwhile'),
    }),
    replayCache,
  });
  const dpop = createTokenEndpointDpop(config, clock, replayCache);
  const statusLists = {
    allocator: new StatusListAllocator(db, clock, config),
    publisher: new StatusListPublisher(db, keys, clock, config),
  };
  return {
    config,
    db,
    clock,
    keys,
    logger,
    metrics,
    throttle,
    refreshTokenSecret,
    replayCache,
    dpop,
    statusLists,
    clientAuthentication,
    clientChanges,
    clientAssertions,
    accessTokenStanding: createAccessTokenStanding(db),
    foreignIssuersSeen: new Set(),
    accessTokens: createAccessTokenVerifier({ issuer: config.issuer, keys }),
  };
}

/** Stops what createDeps started: the key refresh, the throttle (and Redis), the client-change listener. */
export async function closeDeps(deps: Pick<Deps, 'keys' | 'throttle' | 'clientChanges'>): Promise<void> {
  await Promise.all([deps.keys.stop(), deps.throttle.close(), deps.clientChanges.close()]);
}
