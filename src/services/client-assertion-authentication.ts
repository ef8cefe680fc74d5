import type { ClientKeysRegistry } from '../client-assertions/client-keys.js';
import {
  clientAssertionClientId,
  clientAssertionReplayKey,
  decodeClientAssertion,
  verifyClientAssertion,
  type PresentedClientAssertion,
} from '../client-assertions/verify-client-assertion.js';
import type { Clock } from '../lib/clock.js';
import type { Client } from '../store/clients-repository.js';
import type { ClientAuthentication } from './client-authentication.js';
import type { ReplayCache } from './replay-cache.js';

/**
 * private_key_jwt (RFC 7523 §2.2): who the assertion authenticates, or why it does not. A verified
 * assertion comes with the claim of its jti in the shared replay cache under way: `firstUse`
 * resolves true the first time the jti is seen, false for a replay (the assertion then
 * authenticates nobody), and rejects when the replay cache cannot answer.
 */
export type ClientAssertionOutcome = { client: Client; firstUse: Promise<boolean> } | { client?: undefined; reason: string };

export interface ClientAssertionAuthentication {
  /** `clientId`: the request's client_id, when it sent one (RFC 7521 §4.2: then it must be the assertion's). */
  verify(presented: PresentedClientAssertion & { clientId?: string | undefined }): Promise<ClientAssertionOutcome>;
}

/**
 * Checks client assertions: finds the client (by client_id, else the assertion's sub), which must
 * be registered for private_key_jwt; verifies the assertion with its keys (registered, or its
 * jwks_uri through `clientKeys`, the shared cache); then claims the jti in the replay cache shared
 * by every instance until the assertion could no longer be accepted (started here, answered through
 * `firstUse`, so that the caller's own work may overlap its round trip). Every assertion is checked
 * in full; only the client row of a client that authenticated moments ago comes from the cache of
 * client authentications (emptied by every client change in this process).
 */
export function createClientAssertionAuthentication(deps: {
  clients: Pick<ClientAuthentication, 'findClient'>;
  clock: Clock;
  issuer: string;
  /** CLIENT_ASSERTION_MAX_LIFETIME, seconds. */
  maxLifetimeSeconds: number;
  clientKeys: ClientKeysRegistry;
  replayCache: ReplayCache;
}): ClientAssertionAuthentication {
  return {
    async verify(presented) {
      const decoded = presented.assertion === undefined ? undefined : decodeClientAssertion(presented.assertion);
      const clientId = presented.clientId ?? clientAssertionClientId(decoded);
      if (clientId === undefined) return { reason: 'the assertion names no client (sub = iss) and the request has no client_id' };
      const found = await deps.clients.findClient(clientId);
      if (!found) return { reason: 'no such client' };
      const { client } = found;
      if (client.authMethod !== 'private_key_jwt') return { reason: 'the client is not registered for private_key_jwt' };
      const keys = deps.clientKeys.keysFor(
        client.jwksUri !== null ? { type: 'jwks_uri', uri: client.jwksUri } : { type: 'jwks', jwks: client.jwks ?? { keys: [] } },
      );
      const checked = await verifyClientAssertion(presented, {
        clientId,
        keys,
        issuer: deps.issuer,
        tokenEndpointUrl: `${deps.issuer}/token`,
        now: deps.clock.now(),
        maxLifetimeSeconds: deps.maxLifetimeSeconds,
        importKey: (jwk) => deps.clientKeys.importKey(jwk),
        decoded,
      });
      if (!checked.valid) return { reason: checked.reason };
      // Last, so that only an assertion good in every other way spends its jti.
      const firstUse = deps.replayCache.remember(clientAssertionReplayKey(clientId, checked.jti), checked.acceptedUntil).then((first) => {
        if (first) found.remember();
        return first;
      });
      return { client, firstUse };
    },
  };
}
