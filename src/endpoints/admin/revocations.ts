import type { Middleware } from 'koa';
import type { Deps } from '../../deps.js';
import { adminActor } from '../../http/bearer-auth.js';
import { schemaValidator } from '../../http/json-body.js';
import { revokeTarget, type RevocationTarget } from '../../services/revocation.js';
import { InvalidRequest } from '../../errors.js';
import { isUuid } from '../../lib/uuid.js';
import { listLiveGrants } from '../../services/grants.js';
import { presentGrant } from '../../services/presenters.js';
import { normalizeUsername } from '../../services/users.js';
import { decodeCursor, isPair, isTimestampCursor, page, pageSize, queryParameters } from './pagination.js';

const IDENTIFIER = { type: 'string', minLength: 1, maxLength: 255 } as const;
export const revocationRequestSchema = {
  type: 'object',
  properties: { username: IDENTIFIER, user_id: IDENTIFIER, client_id: IDENTIFIER, grant_id: IDENTIFIER, jti: IDENTIFIER },
  additionalProperties: false,
} as const;

const validateRevocation = schemaValidator<Record<string, string>>(revocationRequestSchema);

const TARGETS: Record<string, (value: string) => RevocationTarget> = {
  username: (value) => ({ username: value }),
  user_id: (value) => ({ userId: value }),
  client_id: (value) => ({ clientId: value }),
  grant_id: (value) => ({ grantId: value }),
  jti: (value) => ({ jti: value }),
};

/** POST /admin/revocations — exactly one of username, user_id, client_id, grant_id, jti. */
export function createRevocation(deps: Deps): Middleware {
  return async (ctx) => {
    const entries = Object.entries(validateRevocation(ctx.request.body));
    if (entries.length !== 1) throw new InvalidRequest(`give exactly one of ${Object.keys(TARGETS).join(', ')}`);
    const [field, value] = entries[0] as [string, string];
    const target = (TARGETS[field] as (value: string) => RevocationTarget)(value);
    const revoked = await revokeTarget(deps, target, { actor: adminActor(ctx), reason: 'admin' });
    deps.metrics.revocations.inc({ source: 'admin' }, revoked);
    ctx.body = { revoked };
  };
}

const isGrantCursor = (value: unknown): value is [string, string] =>
  isPair(value) && isTimestampCursor(value[0]) && typeof value[1] === 'string' && isUuid(value[1]);

/** GET /admin/grants?username=&user_id=&client_id=&limit=&cursor= — active grants (sessions), newest first. */
export function listGrants(deps: Deps): Middleware {
  return async (ctx) => {
    const query = queryParameters(ctx, ['username', 'user_id', 'client_id', 'limit', 'cursor'] as const);
    const limit = pageSize(query.limit);
    const cursor = decodeCursor(query.cursor, isGrantCursor);
    const rows = await listLiveGrants(deps.db, {
      username: query.username === undefined ? undefined : normalizeUsername(query.username),
      userId: query.user_id,
      clientId: query.client_id,
      now: deps.clock.now(),
      before: cursor ? { createdAt: new Date(cursor[0]), id: cursor[1] } : undefined,
      limit: limit + 1,
    });
    ctx.body = page(rows, limit, presentGrant, (last) => [last.createdAt.toISOString(), last.id]);
  };
}
