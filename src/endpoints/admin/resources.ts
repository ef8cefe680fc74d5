import type { Middleware } from 'koa';
import type { Deps } from '../../deps.js';
import { adminActor } from '../../http/bearer-auth.js';
import { schemaValidator } from '../../http/json-body.js';
import { pathParameter } from '../../http/path-parameters.js';
import { presentResource } from '../../services/presenters.js';
import {
  changeResource,
  createResource,
  getResource as findResource,
  listResourcesPage,
  MAX_RESOURCE_URI_LENGTH,
  removeResource as deleteResource,
} from '../../services/resources.js';
import { decodeCursor, isTextCursor, page, pageSize, queryParameters } from './pagination.js';

const SCOPES = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 255 }, minItems: 1, maxItems: 200 } as const;

export const createResourceRequestSchema = {
  type: 'object',
  required: ['uri', 'scopes'],
  properties: {
    uri: {
      type: 'string',
      minLength: 1,
      maxLength: MAX_RESOURCE_URI_LENGTH,
      description: 'The resource indicator: an absolute URI without a fragment (RFC 8707 §2).',
    },
    scopes: SCOPES,
  },
  additionalProperties: false,
} as const;

export const updateResourceRequestSchema = {
  type: 'object',
  required: ['scopes'],
  properties: { scopes: SCOPES },
  additionalProperties: false,
} as const;

const validateCreate = schemaValidator<{ uri: string; scopes: string[] }>(createResourceRequestSchema);
const validateUpdate = schemaValidator<{ scopes: string[] }>(updateResourceRequestSchema);

export function listResources(deps: Deps): Middleware {
  return async (ctx) => {
    const query = queryParameters(ctx, ['limit', 'cursor'] as const);
    const limit = pageSize(query.limit);
    const rows = await listResourcesPage(deps.db, { after: decodeCursor(query.cursor, isTextCursor), limit: limit + 1 });
    ctx.body = page(rows, limit, presentResource, (last) => last.uri);
  };
}

export function registerResource(deps: Deps): Middleware {
  return async (ctx) => {
    const body = validateCreate(ctx.request.body);
    const resource = await createResource(deps, body, adminActor(ctx));
    ctx.status = 201;
    ctx.set('Location', `/admin/resources/${encodeURIComponent(resource.uri)}`);
    ctx.body = presentResource(resource);
  };
}

export function getResource(deps: Deps): Middleware {
  return async (ctx) => {
    ctx.body = presentResource(await findResource(deps.db, pathParameter(ctx, 'uri')));
  };
}

export function updateResource(deps: Deps): Middleware {
  return async (ctx) => {
    const body = validateUpdate(ctx.request.body);
    ctx.body = presentResource(await changeResource(deps, pathParameter(ctx, 'uri'), body, adminActor(ctx)));
  };
}

/** Refused (409) while clients are registered for the resource. */
export function removeResource(deps: Deps): Middleware {
  return async (ctx) => {
    await deleteResource(deps, pathParameter(ctx, 'uri'), adminActor(ctx));
    ctx.status = 204;
  };
}
