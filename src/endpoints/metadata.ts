import { CLIENT_ASSERTION_ALGORITHMS } from '../client-assertions/client-jwks.js';
import type { Deps } from '../deps.js';
import { etagOf, type CachedDocument, type ServedDocument } from '../http/etag.js';
import { INTROSPECTION_SIGNING_ALGORITHMS } from '../tokens/introspection-response.js';
import { GRANT_TYPE_HANDLERS } from '../grant-types/index.js';
import { allClientScopes } from '../services/clients.js';

const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'];
const SCOPES_CACHE_MS = 10_000;

/**
 * GET /.well-known/oauth-authorization-server (RFC 8414): the document, serialised once with its
 * ETag whenever the scopes are read again, at most every SCOPES_CACHE_MS. `current()` has it while
 * it is fresh; `refreshed()` reads it again, one read at a time, shared by the requests waiting for it.
 */
export function metadataDocument(deps: Deps): ServedDocument {
  const issuer = deps.config.issuer;
  /** With when it was read (epoch milliseconds). */
  let served: (CachedDocument & { at: number }) | undefined;
  let refreshing: Promise<CachedDocument> | undefined;
  const document = (scopes: string[]) => ({
    issuer,
    token_endpoint: `${issuer}/token`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    introspection_endpoint: `${issuer}/introspect`,
    revocation_endpoint: `${issuer}/revoke`,
    grant_types_supported: [...GRANT_TYPE_HANDLERS.keys()],
    response_types_supported: [],
    scopes_supported: scopes,
    token_endpoint_auth_methods_supported: AUTH_METHODS,
    token_endpoint_auth_signing_alg_values_supported: CLIENT_ASSERTION_ALGORITHMS,
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    introspection_endpoint_auth_signing_alg_values_supported: CLIENT_ASSERTION_ALGORITHMS,
    introspection_signing_alg_values_supported: INTROSPECTION_SIGNING_ALGORITHMS,
    revocation_endpoint_auth_methods_supported: AUTH_METHODS,
    revocation_endpoint_auth_signing_alg_values_supported: CLIENT_ASSERTION_ALGORITHMS,
    dpop_signing_alg_values_supported: deps.dpop.algorithms,
    service_documentation: `${issuer}/docs`,
    status_list_aggregation_endpoint: `${issuer}/statuslists`,
  });
  /**
   * The document with the scopes as they are now. While the database cannot answer, the last one
   * (read again SCOPES_CACHE_MS later): discovery goes on through an outage, as the JWKS does, and
   * the token request a client makes next gets its own 503.
   */
  const fresh = async (last: typeof served): Promise<NonNullable<typeof served>> => {
    try {
      const body = JSON.stringify(document(await allClientScopes(deps.db)));
      return { body, etag: etagOf(body), type: 'application/json; charset=utf-8', cacheControl: 'public, max-age=60', at: deps.clock.now().getTime() };
    } catch (error) {
      if (!last) throw error;
      return { ...last, at: deps.clock.now().getTime() };
    }
  };
  return {
    current: () => (served && deps.clock.now().getTime() - served.at <= SCOPES_CACHE_MS ? served : undefined),
    refreshed() {
      refreshing ??= fresh(served)
        .then((read) => (served = read))
        .finally(() => {
          refreshing = undefined;
        });
      return refreshing;
    },
  };
}
