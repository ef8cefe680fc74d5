import type { Middleware } from 'koa';
import type { Deps } from '../../deps.js';
import { schemaValidator } from '../../http/json-body.js';
import { listSigningKeys, type SigningKey } from '../../store/signing-keys-repository.js';
import { recordAdminAction } from './audit.js';

export function presentKey(key: SigningKey): Record<string, unknown> {
  return {
    kid: key.kid,
    state: key.state,
    created_at: key.createdAt.toISOString(),
    activated_at: key.activatedAt?.toISOString() ?? null,
    retired_at: key.retiredAt?.toISOString() ?? null,
    remove_after: key.removeAfter?.toISOString() ?? null,
  };
}

/** GET /admin/keys */
export function listKeys(deps: Deps): Middleware {
  return async (ctx) => {
    ctx.body = { items: (await listSigningKeys(deps.db)).map(presentKey), next_cursor: null };
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
    const body = validateRotate(ctx.request.body);
    const result = await deps.keys.rotateNow({ revokeOld: body.revoke_old === true });
    await recordAdminAction(deps, ctx, 'keys.rotate', { current: result.current, next: result.next, revoke_old: body.revoke_old === true });
    ctx.body = { current: result.current, next: result.next };
  };
}
