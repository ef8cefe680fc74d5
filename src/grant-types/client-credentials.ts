import { UnauthorizedClient } from '../errors.js';
import { isPublicClient } from '../services/clients.js';
import { issueTokens } from '../tokens/issue.js';
import { defineGrantType, issueContext } from './grant-type-handler.js';
import { RESOURCE_PARAMETER, requestedResources, resourceScopeLimits } from './resources.js';
import { grantScopes, requestedScopes } from './scope.js';

/** RFC 6749 §4.4: the client acts on its own behalf; sub = client id, no refresh token. */
export const clientCredentialsGrant = defineGrantType({
  grantType: 'client_credentials',
  parameters: {
    type: 'object',
    required: [],
    properties: { scope: { type: 'string', maxLength: 2048 }, ...RESOURCE_PARAMETER },
  },
  async handle(deps, client, parameters, request) {
    if (isPublicClient(client)) throw new UnauthorizedClient('public clients cannot use client_credentials');
    const requested = requestedScopes(parameters.scope);
    const resources = await requestedResources(deps, client, request.resources);
    const scopes = grantScopes(requested, client.scopes, ...resourceScopeLimits(resources));
    // Nothing is stored: the token is signed while the request's one-time values are claimed.
    const [response] = await Promise.all([
      issueTokens(issueContext(deps), deps.db, { kind: 'client', client, scopes, resources: resources?.uris }, { dpopJkt: request.dpop?.jkt }),
      request.replayChecked,
    ]);
    return response;
  },
});
