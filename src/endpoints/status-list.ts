import type { Middleware } from 'koa';
import type { Deps } from '../deps.js';
import { NotFound } from '../errors.js';
import { pathParameter } from '../http/path-parameters.js';
import { answerWithEtag } from '../http/etag.js';

/** List ids are positive integers that fit a PostgreSQL integer; anything else names no list. */
const LIST_ID = /^[1-9][0-9]{0,9}$/;
const MAX_LIST_ID = 2 ** 31 - 1;

/**
 * GET /statuslists/{id}: the status list token (draft-ietf-oauth-status-list §8), from memory while
 * the list has not changed; `ETag` and `If-None-Match` → 304; cacheable for at most the ttl.
 */
export function statusListEndpoint(deps: Deps): Middleware {
  return async (ctx) => {
    const raw = pathParameter(ctx, 'id');
    const listId = LIST_ID.test(raw) ? Number(raw) : Number.NaN;
    const served = listId <= MAX_LIST_ID ? await deps.statusLists.publisher.serve(listId) : undefined;
    if (!served) throw new NotFound('no such status list');
    answerWithEtag(ctx, { body: served.token, etag: served.etag, type: 'application/statuslist+jwt', cacheControl: `public, max-age=${served.maxAge}` });
  };
}

/** GET /statuslists: the status list aggregation (§9.3), the URIs of the lists live tokens name. */
export function statusListAggregationEndpoint(deps: Deps): Middleware {
  return async (ctx) => {
    ctx.set('Cache-Control', `public, max-age=${deps.config.statusListTtl}`);
    ctx.body = { status_lists: await deps.statusLists.publisher.liveListUris() };
  };
}
