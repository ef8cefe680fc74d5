import type { Middleware } from 'koa';
import type { Deps } from '../../deps.js';
import { schemaValidator } from '../../http/json-body.js';
import { pathParameter } from '../../http/path-parameters.js';
import { adminActor } from '../../http/bearer-auth.js';
import { changeUser, createUser, getUser as findUser, listUsersPage, removeUser as deleteUser } from '../../services/users.js';
import { presentUser } from '../../services/presenters.js';
import { decodeCursor, isTextCursor, page, pageSize, queryParameters } from './pagination.js';

const SCOPES = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 255 }, maxItems: 200 } as const;
const OPTIONAL_TEXT = { type: ['string', 'null'], maxLength: 320 } as const;
const PASSWORD = { type: 'string', minLength: 1, maxLength: 1024 } as const;

export const createUserRequestSchema = {
  type: 'object',
  required: ['username', 'password', 'scopes'],
  properties: { username: { type: 'string', minLength: 1, maxLength: 255 }, password: PASSWORD, email: OPTIONAL_TEXT, name: OPTIONAL_TEXT, scopes: SCOPES },
  additionalProperties: false,
} as const;

export const updateUserRequestSchema = {
  type: 'object',
  properties: { password: PASSWORD, disabled: { type: 'boolean' }, email: OPTIONAL_TEXT, name: OPTIONAL_TEXT, scopes: SCOPES },
  additionalProperties: false,
} as const;

interface CreateUserRequest {
  username: string;
  password: string;
  email?: string | null;
  name?: string | null;
  scopes: string[];
}
interface UpdateUserRequest {
  password?: string;
  disabled?: boolean;
  email?: string | null;
  name?: string | null;
  scopes?: string[];
}

const validateCreate = schemaValidator<CreateUserRequest>(createUserRequestSchema);
const validateUpdate = schemaValidator<UpdateUserRequest>(updateUserRequestSchema);

/** GET /admin/users?search=&limit=&cursor= — by username; `search` matches username, email or name. */
export function listUsers(deps: Deps): Middleware {
  return async (ctx) => {
    const query = queryParameters(ctx, ['search', 'limit', 'cursor'] as const);
    const limit = pageSize(query.limit);
    // Usernames are stored in NFC, so the text searched for is too; an empty search is no filter.
    const search = query.search === undefined || query.search === '' ? undefined : query.search.normalize('NFC');
    const rows = await listUsersPage(deps.db, { after: decodeCursor(query.cursor, isTextCursor), search, limit: limit + 1 });
    ctx.body = page(rows, limit, presentUser, (last) => last.username);
  };
}

export function registerUser(deps: Deps): Middleware {
  return async (ctx) => {
    const body = validateCreate(ctx.request.body);
    const user = await createUser(deps, body, adminActor(ctx));
    ctx.status = 201;
    ctx.set('Location', `/admin/users/${user.id}`);
    ctx.body = presentUser(user);
  };
}

export function getUser(deps: Deps): Middleware {
  return async (ctx) => {
    ctx.body = presentUser(await findUser(deps.db, pathParameter(ctx, 'id')));
  };
}

/** PATCH {"disabled": true} or {"password": …} also ends every grant of the user. */
export function updateUser(deps: Deps): Middleware {
  return async (ctx) => {
    const body = validateUpdate(ctx.request.body);
    const { user, revoked } = await changeUser(deps, pathParameter(ctx, 'id'), body, adminActor(ctx));
    deps.metrics.revocations.inc({ source: 'admin' }, revoked);
    ctx.body = { ...presentUser(user), revoked_grants: revoked };
  };
}

/** Deleting a user deletes its grants (cascade); its tokens turn inactive at once. */
export function removeUser(deps: Deps): Middleware {
  return async (ctx) => {
    await deleteUser(deps, pathParameter(ctx, 'id'), adminActor(ctx));
    ctx.status = 204;
  };
}
