import type { Logger } from 'pino';
import { listenForClientChanges, type ClientChangeListener } from '../store/client-change-notifications.js';
import { CLIENT_AUTH_CACHE_TTL_MS, type ClientAuthentication } from './client-authentication.js';

/**
 * Keeps this instance's cache of client authentications in step with changes made anywhere else
 * on the same PostgreSQL database (another instance, the CLI): each change is announced when it
 * commits (the store's announceClientChange, in the change's transaction), and every instance
 * empties its cache on the announcement. So a client revoked, changed or deleted elsewhere is seen
 * here at once, not up to the cache's TTL later; only while the listening connection is down does
 * the TTL bound it again. The embedded database has one process, which empties its cache itself.
 */
export async function followClientChanges(
  databaseUrl: string | undefined,
  clientAuthentication: Pick<ClientAuthentication, 'forget'>,
  logger: Pick<Logger, 'warn'>,
): Promise<ClientChangeListener> {
  if (!databaseUrl) return { close: async () => undefined };
  return listenForClientChanges(databaseUrl, {
    onChange: () => clientAuthentication.forget(),
    onGap: (error) => {
      clientAuthentication.forget();
      logger.warn(
        { err: error },
        `lost the connection that follows client changes made elsewhere; retrying (meanwhile they take up to ${CLIENT_AUTH_CACHE_TTL_MS / 1000} s to be seen)`,
      );
    },
  });
}
