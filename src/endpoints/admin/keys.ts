import type { Middleware } from 'koa';
import type { Deps } from '../../deps.js';
import { schemaValidator } from '../../http/json-body.js';
import { presentKey } from '../../services/presenters.js';
import { adminActor } from '../../http/bearer-auth.js';
import { queryParameters } from './pagination.js';

/** GET /admin/keys — every key (one page), and when the scheduled rotation is due. */
export function listKeys(deps: Deps): Middleware {
  return async (ctx) => {
    // Every key fits one page: no parameter to take, and any is refused as at the other lists.
    queryParameters(ctx, []);
    const keys = await deps.keys.listStored();
    const rotation = deps.keys.nextRotationAt(keys);
    ctx.body = { items: keys.map(presentKey), next_cursor: null, next_rotation_at: rotation?.toISOString() ?? null };
  };
}

export const rotateKeysRequestSchema = {
  type: 'object',
  properties: { revoke_old: { type: 'boolean' } },
  additionalProperties: false,
} as const;
const validateRotate = schemaValidator<{ revoke_old?: boolean }>(rotateKeysRequestSchema);

/** POST /admin/keys/rotate {"revoke_old"?: true} → {"current","next"} */
export function rotateKeysNow(deps: Deps): Middleware {
  return async (ctx) => {
    queryParameters(ctx, []);
    const body = validateRotate(ctx.request.body);
    const result = await deps.keys.rotateNow({ revokeOld: body.revoke_old === true, actor: adminActor(ctx) });
    ctx.body = { current: result.current, next: result.next };
  };
}
