import type { Middleware } from 'koa';
import type { Deps } from '../../deps.js';
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

/** GET /admin/audit?action=&actor_id=&limit=&cursor= — newest first. */
export function listAudit(deps: Deps): Middleware {
  return async (ctx) => {
    const query = queryParameters(ctx, ['action', 'actor_id', 'limit', 'cursor'] as const);
    const limit = pageSize(query.limit);
    const beforeId = decodeCursor(query.cursor, isIdCursor);
    const rows = await listAuditRecords(deps.db, { action: query.action, actorId: query.actor_id, beforeId, limit: limit + 1 });
    ctx.body = page(rows, limit, present, (last) => last.id);
  };
}
