import type { Deps } from '../deps.js';
import { Conflict } from '../errors.js';
import { SYSTEM_ACTOR } from '../services/actor.js';
import { createClient, type ClientInput } from '../services/clients.js';

/** The admin console's own client: public, the password grant and refresh tokens, the admin scopes. */
export const CONSOLE_CLIENT_ID = 'gatehouse-console';

/**
 * Public (no secret, nothing to leak from the page), so a token it gets carries only what the
 * signed-in user holds: the password grant intersects these scopes with the user's, and a user
 * without an admin scope ends with invalid_scope. No audience: its tokens are for the issuer, the
 * admin API, whatever ISSUER becomes later.
 */
export const CONSOLE_CLIENT: ClientInput = Object.freeze({
  id: CONSOLE_CLIENT_ID,
  public: true,
  grantTypes: ['password', 'refresh_token'],
  scopes: ['admin:tokens', 'admin:keys', 'admin:clients', 'admin:users'],
  audience: null,
});

/**
 * At start, with CONSOLE_ENABLED: creates the console's client when it does not exist, as the
 * `system` actor (audited in the same transaction). An existing client of that id is left as it
 * is (an operator may have changed it). Several instances starting at once: one inserts, the
 * others meet the conflict and carry on.
 */
export async function ensureConsoleClient(
  deps: Pick<Deps, 'config' | 'db' | 'clock' | 'logger' | 'clientAuthentication'>,
): Promise<'created' | 'exists' | 'disabled'> {
  if (!deps.config.consoleEnabled) return 'disabled';
  try {
    await createClient(deps, { ...CONSOLE_CLIENT, grantTypes: [...CONSOLE_CLIENT.grantTypes], scopes: [...CONSOLE_CLIENT.scopes] }, SYSTEM_ACTOR);
  } catch (error) {
    if (error instanceof Conflict) return 'exists';
    throw error;
  }
  deps.logger.info({ client_id: CONSOLE_CLIENT_ID }, 'created the admin console client');
  return 'created';
}
