import { clientCredentialsGrant } from './client-credentials.js';
import type { GrantTypeHandler } from './grant-type-handler.js';
import { passwordGrant } from './password.js';
import { refreshTokenGrant } from './refresh-token.js';

/** grant_type → the module that handles it. */
export const GRANT_TYPE_HANDLERS: ReadonlyMap<string, GrantTypeHandler> = new Map(
  ([passwordGrant, refreshTokenGrant, clientCredentialsGrant] as GrantTypeHandler[]).map((handler) => [handler.grantType, handler]),
);
