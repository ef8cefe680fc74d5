import type { Deps } from '../deps.js';
import { InvalidGrant } from '../errors.js';
import { tokenResources, type TokenResources } from '../services/resources.js';
import type { Client } from '../store/clients-repository.js';
import type { Grant } from '../store/grants-repository.js';

/** The `resource` form parameter, in every grant's schema (the OpenAPI document shows it). */
export const RESOURCE_PARAMETER = {
  resource: {
    type: 'string',
    maxLength: 2048,
    description: 'RFC 8707: a resource (API) the token is for; repeatable. Each must be one the client was registered for.',
  },
} as const;

/**
 * RFC 8707 §2 at /token: the resources a request names, each one the client was registered for
 * (else invalid_target). At a refresh (`grant` given) they must be among the grant's that the
 * client still has; none named gives all of those, fewer if an admin has taken some from the
 * client since. A grant for resources of which none is left gives no token (invalid_grant): the
 * token would otherwise be for another audience than the user signed in for. Undefined: the token
 * is for no resource.
 */
export async function requestedResources(
  deps: Pick<Deps, 'db'>,
  client: Client,
  requested: readonly string[],
  grant?: Grant,
): Promise<TokenResources | undefined> {
  if (!grant) return tokenResources(deps.db, { requested, allowed: client.resources });
  const allowed = grant.resources.filter((uri) => client.resources.includes(uri));
  if (requested.length === 0 && grant.resources.length > 0 && allowed.length === 0) {
    throw new InvalidGrant('the resources of this grant are no longer available to this client: sign in again');
  }
  return tokenResources(deps.db, { requested, allowed, fallback: allowed });
}

/** The scope limits the resources add: the scopes they define together (none when there are none). */
export function resourceScopeLimits(resources: TokenResources | undefined): string[][] {
  return resources ? [resources.scopes] : [];
}
