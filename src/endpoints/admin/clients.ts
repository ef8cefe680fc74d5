import type { Middleware } from 'koa';
import type { Deps } from '../../deps.js';
import { schemaValidator } from '../../http/json-body.js';
import { pathParameter } from '../../http/path-parameters.js';
import { adminActor } from '../../http/bearer-auth.js';
import { changeClient, createClient, getClient as findClient, GRANT_TYPES, listClientsPage, removeClient as deleteClient } from '../../services/clients.js';
import { presentClient } from '../../services/presenters.js';
import { decodeCursor, isTextCursor, page, pageSize, queryParameters } from './pagination.js';

const SCOPES = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 255 }, maxItems: 200 } as const;
const GRANTS = { type: 'array', items: { type: 'string', enum: [...GRANT_TYPES] }, minItems: 1, maxItems: 3 } as const;
const AUDIENCE = { type: ['string', 'null'], minLength: 1, maxLength: 2048 } as const;
const DPOP_BOUND = { type: 'boolean' } as const;
const SECRET = { type: 'string', minLength: 32, maxLength: 1024 } as const;

export const createClientRequestSchema = {
  type: 'object',
  required: ['client_id', 'grant_types', 'scopes'],
  properties: {
    client_id: { type: 'string', minLength: 1, maxLength: 255 },
    client_secret: SECRET,
    public: { type: 'boolean' },
    grant_types: GRANTS,
    scopes: SCOPES,
    audience: AUDIENCE,
    dpop_bound_access_tokens: DPOP_BOUND,
  },
  additionalProperties: false,
} as const;

export const updateClientRequestSchema = {
  type: 'object',
  properties: {
    grant_types: GRANTS,
    scopes: SCOPES,
    audience: AUDIENCE,
    dpop_bound_access_tokens: DPOP_BOUND,
    client_secret: SECRET,
    rotate_secret: { type: 'boolean' },
  },
  additionalProperties: false,
} as const;

interface CreateClientRequest {
  client_id: string;
  client_secret?: string;
  public?: boolean;
  grant_types: string[];
  scopes: string[];
  audience?: string | null;
  dpop_bound_access_tokens?: boolean;
}
interface UpdateClientRequest {
  grant_types?: string[];
  scopes?: string[];
  audience?: string | null;
  dpop_bound_access_tokens?: boolean;
  client_secret?: string;
  rotate_secret?: boolean;
}

const validateCreate = schemaValidator<CreateClientRequest>(createClientRequestSchema);
const validateUpdate = schemaValidator<UpdateClientRequest>(updateClientRequestSchema);

export function listClients(deps: Deps): Middleware {
  return async (ctx) => {
    const query = queryParameters(ctx, ['limit', 'cursor'] as const);
    const limit = pageSize(query.limit);
    const rows = await listClientsPage(deps.db, { after: decodeCursor(query.cursor, isTextCursor), limit: limit + 1 });
    ctx.body = page(rows, limit, presentClient, (last) => last.id);
  };
}

export function registerClient(deps: Deps): Middleware {
  return async (ctx) => {
    const body = validateCreate(ctx.request.body);
    const { client, clientSecret } = await createClient(
      deps,
      {
        id: body.client_id,
        secret: body.client_secret,
        public: body.public,
        grantTypes: body.grant_types,
        scopes: body.scopes,
        audience: body.audience,
        dpopBoundAccessTokens: body.dpop_bound_access_tokens,
      },
      adminActor(ctx),
    );
    ctx.status = 201;
    ctx.set('Location', `/admin/clients/${encodeURIComponent(client.id)}`);
    // The secret is shown this once; only its hash is stored.
    ctx.body = { ...presentClient(client), client_secret: clientSecret };
  };
}

export function getClient(deps: Deps): Middleware {
  return async (ctx) => {
    ctx.body = presentClient(await findClient(deps.db, pathParameter(ctx, 'id')));
  };
}

export function updateClient(deps: Deps): Middleware {
  return async (ctx) => {
    const body = validateUpdate(ctx.request.body);
    const { client, clientSecret } = await changeClient(
      deps,
      pathParameter(ctx, 'id'),
      {
        grantTypes: body.grant_types,
        scopes: body.scopes,
        audience: body.audience,
        dpopBoundAccessTokens: body.dpop_bound_access_tokens,
        secret: body.client_secret,
        rotateSecret: body.rotate_secret,
      },
      adminActor(ctx),
    );
    ctx.body = clientSecret === null || body.client_secret !== undefined ? presentClient(client) : { ...presentClient(client), client_secret: clientSecret };
  };
}

/** Deleting a client deletes its grants and refresh tokens; its access tokens turn inactive. */
export function removeClient(deps: Deps): Middleware {
  return async (ctx) => {
    await deleteClient(deps, pathParameter(ctx, 'id'), adminActor(ctx));
    ctx.status = 204;
  };
}
