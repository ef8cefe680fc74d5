import type { Deps } from '../deps.js';
import { checkDatabase, isDatabaseUnavailable } from '../store/health-repository.js';

export type ReadinessCheck = 'database' | 'migrations' | 'signing_key';

/** Readiness: the database answers, migrations are current, a signing key is loaded. */
export async function checkReadiness(deps: Pick<Deps, 'db' | 'keys'>): Promise<{ ready: boolean; checks: Record<ReadinessCheck, 'ok' | 'failing'> }> {
  const database = await checkDatabase(deps.db);
  let signingKey = true;
  try {
    deps.keys.signingKey();
  } catch {
    signingKey = false;
  }
  const checks: Record<ReadinessCheck, 'ok' | 'failing'> = {
    database: database.reachable ? 'ok' : 'failing',
    migrations: database.migrationsCurrent ? 'ok' : 'failing',
    signing_key: signingKey ? 'ok' : 'failing',
  };
  return { ready: Object.values(checks).every((check) => check === 'ok'), checks };
}

/** A failure of the database that retrying later may cure (the HTTP layer answers 503). */
export function isTemporaryStorageFailure(error: unknown): boolean {
  return isDatabaseUnavailable(error);
}
