import type { Config } from './config.js';
import type { Deps } from './deps.js';
import { systemClock, type Clock } from './lib/clock.js';
import { createClientAuthentication } from './services/client-authentication.js';
import type { Database } from './store/database.js';

/**
 * What the admin services need and no more: the CLI, seeding scripts and tests use this without
 * keys, metrics or a logger. A module of its own, so that a CLI command never loads what only the
 * server runs (metrics, the rate limiter, Redis, DPoP, the status lists): each is a few dozen files
 * read at every start.
 */
export type AdminDeps = Pick<Deps, 'config' | 'db' | 'clock' | 'clientAuthentication'>;

export function createAdminDeps(config: Config, db: Database, clock: Clock = systemClock): AdminDeps {
  return { config, db, clock, clientAuthentication: createClientAuthentication(db) };
}
