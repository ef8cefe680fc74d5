import type { Middleware } from 'koa';
import type { Deps } from '../../deps.js';
import { InvalidRequest } from '../../errors.js';
import { listAudit as listAuditRecords } from '../../services/audit.js';
import type { AuditRecord } from '../../store/audit-repository.js';
import { page, pageSize, queryParameters, decodeCursor, isIdCursor } from './pagination.js';

/** The actor as separate fields: a user id and a client id can never be read as each other. */
function presentActor(entry: AuditRecord): Record<string, unknown> {
  const actor: Record<string, unknown> = { type: entry.actorType };
  if (entry.actorId !== null) actor.id = entry.actorId;
  if (entry.actorType === 'user') {
    actor.client_id = entry.actorClientId;
    if (entry.actorUsername !== null) actor.username = entry.actorUsername;
  }
  return actor;
}

function present(entry: AuditRecord): Record<string, unknown> {
  return { id: entry.id, at: entry.at.toISOString(), actor: presentActor(entry), action: entry.action, details: entry.details, count: entry.count };
}

const DATE_TIME = /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$/i;

/**
 * A query parameter holding an RFC 3339 date-time (`2026-11-26T21:00:00Z`, seconds optional), of
 * a day that exists, from 1970 to 9999; anything else is invalid_request, never a query.
 */
function timestampParameter(name: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const match = DATE_TIME.exec(value);
  const [year, month, day] = [Number(match?.[1]), Number(match?.[2]), Number(match?.[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  const at = new Date(value);
  if (!match || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || Number.isNaN(at.getTime()) || year < 1970 || at.getUTCFullYear() > 9999) {
    throw new InvalidRequest(`${name} must be a date-time such as 2026-11-26T21:00:00Z`);
  }
  return at;
}

/**
 * GET /admin/audit?action=&actor_id=&target=&since=&until=&limit=&cursor= — newest first. `target`:
 * entries whose details name it (a user id or username, client id, grant id, jti, kid or resource URI); `since`
 * and `until`: inclusive bounds on `at`.
 */
export function listAudit(deps: Deps): Middleware {
  return async (ctx) => {
    const query = queryParameters(ctx, ['action', 'actor_id', 'target', 'since', 'until', 'limit', 'cursor'] as const);
    const limit = pageSize(query.limit);
    const beforeId = decodeCursor(query.cursor, isIdCursor);
    const since = timestampParameter('since', query.since);
    const until = timestampParameter('until', query.until);
    const filter = { action: query.action, actorId: query.actor_id, target: query.target, since, until };
    const rows = await listAuditRecords(deps.db, { ...filter, beforeId, limit: limit + 1 });
    ctx.body = page(rows, limit, present, (last) => last.id);
  };
}
