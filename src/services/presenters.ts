import { formatScope } from '../lib/scope.js';
import type { Client } from '../store/clients-repository.js';
import type { ActiveGrant } from '../store/grants-repository.js';
import type { SigningKey } from '../store/signing-keys-repository.js';
import type { User } from '../store/users-repository.js';

// The JSON shapes of clients, users, keys and grants, shared by the admin API and the CLI's --json.

/** The public view of a client: never its secret or the secret's hash. */
export function presentClient(client: Client): Record<string, unknown> {
  return {
    client_id: client.id,
    public: client.secretHash === null,
    grant_types: client.grantTypes,
    scopes: client.scopes,
    audience: client.audience,
    dpop_bound_access_tokens: client.dpopBoundAccessTokens,
    created_at: client.createdAt.toISOString(),
    updated_at: client.updatedAt.toISOString(),
  };
}

/** The public view of a user: never the password hash. */
export function presentUser(user: User): Record<string, unknown> {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    name: user.name,
    scopes: user.scopes,
    disabled: user.disabled,
    created_at: user.createdAt.toISOString(),
    updated_at: user.updatedAt.toISOString(),
  };
}

export function presentKey(key: SigningKey): Record<string, unknown> {
  return {
    kid: key.kid,
    state: key.state,
    created_at: key.createdAt.toISOString(),
    activated_at: key.activatedAt?.toISOString() ?? null,
    retired_at: key.retiredAt?.toISOString() ?? null,
    remove_after: key.removeAfter?.toISOString() ?? null,
  };
}

export function presentGrant(grant: ActiveGrant): Record<string, unknown> {
  return {
    grant_id: grant.id,
    client_id: grant.clientId,
    user_id: grant.userId,
    username: grant.username,
    scope: formatScope(grant.scopes),
    created_at: grant.createdAt.toISOString(),
    last_refreshed_at: grant.lastRefreshedAt?.toISOString() ?? null,
    expires_at: grant.expiresAt.toISOString(),
  };
}
