import { UnauthorizedClient } from '../errors.js';
import { issueTokens } from '../tokens/issue.js';
import { defineGrantType, issueContext } from './grant-type-handler.js';
import { grantScopes, requestedScopes } from './scope.js';

/** RFC 6749 §4.4: the client acts on its own behalf; sub = client id, no refresh token. */
export const clientCredentialsGrant = defineGrantType({
  grantType: 'client_credentials',
  parameters: {
    type: 'object',
    required: [],
    properties: { scope: { type: 'string', maxLength: 2048 } },
  },
  async handle(deps, client, parameters, request) {
    if (client.secretHash === null) throw new UnauthorizedClient('public clients cannot use client_credentials');
    const scopes = grantScopes(requestedScopes(parameters.scope), client.scopes);
    return issueTokens(issueContext(deps), deps.db, { kind: 'client', client, scopes }, { dpopJkt: request.dpop?.jkt });
  },
});
