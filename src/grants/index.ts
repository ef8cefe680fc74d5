import { clientCredentialsGrant } from './client-credentials.js';
import type { GrantHandler } from './grant-handler.js';
import { passwordGrant } from './password.js';
import { refreshTokenGrant } from './refresh-token.js';

/** grant_type → the module that handles it. */
export const GRANT_HANDLERS: ReadonlyMap<string, GrantHandler> = new Map<string, GrantHandler>(
  [passwordGrant, refreshTokenGrant, clientCredentialsGrant].map((handler) => [handler.grantType, handler]),
);
