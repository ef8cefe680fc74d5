import type { Context, Middleware } from 'koa';
import type { Deps } from '../../deps.js';
import { insertAuditEntry, listAuditEntries, type AuditRecord } from '../../store/audit-repository.js';
import { page, pageSize, queryParameters, decodeCursor, isIdCursor } from './pagination.js';

/** Records an admin action; details carry identifiers only, never secrets or token values. */
export async function recordAdminAction(deps: Deps, ctx: Context, action: string, details: Record<string, unknown>, count?: number): Promise<void> {
  await insertAuditEntry(deps.db, { at: deps.clock.now(), actor: ctx.state.admin?.actor ?? 'admin', action, details, count: count ?? null });
}

function present(entry: AuditRecord): Record<string, unknown> {
  return { id: entry.id, at: entry.at.toISOString(), actor: entry.actor, action: entry.action, details: entry.details, count: entry.count };
}

/** GET /admin/audit?action=&limit=&cursor= — newest first. */
export function listAudit(deps: Deps): Middleware {
  return async (ctx) => {
    const query = queryParameters(ctx, ['action', 'limit', 'cursor'] as const);
    const limit = pageSize(query.limit);
    const beforeId = decodeCursor(query.cursor, isIdCursor);
    const rows = await listAuditEntries(deps.db, { action: query.action, beforeId, limit: limit + 1 });
    ctx.body = page(rows, limit, present, (last) => last.id);
  };
}
