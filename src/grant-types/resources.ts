import type { Deps } from '../deps.js';
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
 * (else invalid_target). At a refresh (`grant` given) they must be among the grant's, which the
 * client still has; none named gives the grant's. Undefined: the token is for no resource.
 */
export function requestedResources(deps: Pick<Deps, 'db'>, client: Client, requested: readonly string[], grant?: Grant): Promise<TokenResources | undefined> {
  if (!grant) return tokenResources(deps.db, { requested, allowed: client.resources });
  return tokenResources(deps.db, {
    requested,
    allowed: grant.resources.filter((uri) => client.resources.includes(uri)),
    fallback: grant.resources,
  });
}

/** The scope limits the resources add: the scopes they define together (none when there are none). */
export function resourceScopeLimits(resources: TokenResources | undefined): string[][] {
  return resources ? [resources.scopes] : [];
}
