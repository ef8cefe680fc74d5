import { InvalidGrant } from '../errors.js';
import { checkUsername } from '../lib/username.js';
import { isPublicClient } from '../services/clients.js';
import { authenticateUser } from '../services/users.js';
import { startGrant } from '../services/grants.js';
import { issueTokens } from '../tokens/issue.js';
import { defineGrantType, issueContext } from './grant-type-handler.js';
import { RESOURCE_PARAMETER, requestedResources, resourceScopeLimits } from './resources.js';
import { grantScopes, requestedScopes } from './scope.js';

/** RFC 6749 §4.3: resource owner password credentials. */
export const passwordGrant = defineGrantType({
  grantType: 'password',
  parameters: {
    type: 'object',
    required: ['username', 'password'],
    properties: {
      username: { type: 'string', minLength: 1, maxLength: 255 },
      password: { type: 'string', minLength: 1, maxLength: 1024 },
      scope: { type: 'string', maxLength: 2048 },
      ...RESOURCE_PARAMETER,
    },
  },
  async handle(deps, client, parameters, request) {
    const requested = requestedScopes(parameters.scope);
    // A resource the client may not ask for is refused before the password is looked at.
    const resources = await requestedResources(deps, client, request.resources);
    // Locks count against the name as users are stored (NFC): another form of it is no way around one.
    const username = checkUsername(parameters.username).username;
    // The login lock stores its counters: a replayed proof or assertion must not reach it.
    await request.replayChecked;
    // The attempt is counted before the password is looked at, and a locked username is refused
    // without looking at it at all: parallel guesses cannot outrun the lock.
    const user = await deps.throttle.attemptLogin({ username, ip: request.ip }, () => authenticateUser(deps.db, username, parameters.password));
    if (!user) {
      deps.metrics.failedLogins.inc();
      throw new InvalidGrant('invalid username or password');
    }
    // Scopes the client may not have are refused outright; the user's scopes then narrow the rest.
    const scopes = grantScopes(requested, client.scopes, user.scopes, ...resourceScopeLimits(resources));
    const now = deps.clock.now();
    // The first access token's status list index, recorded on the grant.
    const status = await deps.statusLists.allocator.allocate(client);
    return deps.db.transaction(async (tx) => {
      const grant = await startGrant(tx, {
        clientId: client.id,
        userId: user.id,
        scopes,
        resources: resources?.uris ?? [],
        now,
        lifetimeSeconds: deps.config.refreshTokenTtl,
        status,
        // RFC 9449 §5: a public client's refresh tokens are bound to its DPoP key (a confidential
        // client's are bound to its credentials already).
        dpopJkt: isPublicClient(client) ? request.dpop?.jkt : undefined,
      });
      return issueTokens(
        issueContext(deps),
        tx,
        { kind: 'new-grant', client, user, grant, scopes, resources: resources?.uris },
        { dpopJkt: request.dpop?.jkt },
      );
    });
  },
});
