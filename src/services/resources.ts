import type { Deps } from '../deps.js';
import { Conflict, InvalidTarget, NotFound, ValidationError } from '../errors.js';
import type { Queryable } from '../store/database.js';
import {
  deleteResource,
  findResources,
  insertResource,
  listClientIdsForResource,
  listResources,
  updateResourceScopes,
  type Resource,
} from '../store/resources-repository.js';
import { assertMayAssignScopes, assertMayManage, type Actor } from './actor.js';
import { recordAudit } from './audit.js';
import { validateScopes } from './clients.js';
import { collectAllPages } from './paging.js';

export type { Resource } from '../store/resources-repository.js';

export const MAX_RESOURCE_URI_LENGTH = 2048;
/** Most resources one client may be registered for (and one token request may name). */
export const MAX_CLIENT_RESOURCES = 50;

/**
 * RFC 8707 §2: a resource indicator is an absolute URI without a fragment. It is kept exactly as
 * given (no normalisation): clients send it back byte for byte, and it becomes the token's `aud`.
 */
export function validateResourceUri(uri: string): string {
  if (uri.length === 0 || uri.length > MAX_RESOURCE_URI_LENGTH) throw new ValidationError(`a resource URI is 1 to ${MAX_RESOURCE_URI_LENGTH} characters`);
  if (!/^[\x21-\x7E]+$/.test(uri)) throw new ValidationError('a resource URI has no spaces or control characters');
  if (uri.includes('#')) throw new ValidationError('a resource URI must not have a fragment (RFC 8707 §2)');
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(uri) || !URL.canParse(uri)) throw new ValidationError('a resource URI must be an absolute URI (RFC 8707 §2)');
  return uri;
}

/** A client's (or a request's) list of resources: valid URIs, no repeats, at most MAX_CLIENT_RESOURCES. */
export function validateResourceList(uris: readonly string[]): string[] {
  const unique = [...new Set(uris.map(validateResourceUri))];
  if (unique.length > MAX_CLIENT_RESOURCES) throw new ValidationError(`at most ${MAX_CLIENT_RESOURCES} resources`);
  return unique;
}

/** Inside a client change: every listed resource must be registered, and stays so until the change commits. */
export async function assertResourcesExist(tx: Queryable, uris: readonly string[]): Promise<void> {
  const found = new Set((await findResources(tx, uris, { lock: 'share' })).map((resource) => resource.uri));
  const missing = uris.filter((uri) => !found.has(uri));
  if (missing.length > 0) throw new ValidationError(`no resource is registered with the URI ${missing[0]}`);
}

type ResourceChangeDeps = Pick<Deps, 'db' | 'clock'>;

export async function createResource(deps: ResourceChangeDeps, input: { uri: string; scopes: string[] }, actor: Actor): Promise<Resource> {
  const uri = validateResourceUri(input.uri);
  const scopes = validateScopes(input.scopes);
  if (scopes.length === 0) throw new ValidationError('a resource defines at least one scope');
  assertMayAssignScopes(actor, scopes);
  const now = deps.clock.now();
  const resource: Resource = { uri, scopes, createdAt: now, updatedAt: now };
  await deps.db.transaction(async (tx) => {
    if (!(await insertResource(tx, resource))) throw new Conflict(`a resource with the URI ${uri} already exists`);
    await recordAudit(tx, { actor, at: now, action: 'resource.create', details: { resource: uri } });
  });
  return resource;
}

export async function changeResource(deps: ResourceChangeDeps, uri: string, changes: { scopes: string[] }, actor: Actor): Promise<Resource> {
  const scopes = validateScopes(changes.scopes);
  if (scopes.length === 0) throw new ValidationError('a resource defines at least one scope');
  assertMayAssignScopes(actor, scopes);
  const now = deps.clock.now();
  return deps.db.transaction(async (tx) => {
    const [existing] = await findResources(tx, [uri], { lock: 'update' });
    if (!existing) throw new NotFound(`no resource with the URI ${uri}`);
    assertMayManage(actor, `the resource ${uri}`, existing.scopes);
    const updated = (await updateResourceScopes(tx, uri, scopes, now)) as Resource;
    await recordAudit(tx, { actor, at: now, action: 'resource.update', details: { resource: uri, fields: ['scopes'] } });
    return updated;
  });
}

/**
 * Deletes a resource. Refused (409) while a client is registered for it: its tokens would change
 * audience under it; remove the resource from those clients first.
 */
export async function removeResource(deps: ResourceChangeDeps, uri: string, actor: Actor): Promise<void> {
  const now = deps.clock.now();
  await deps.db.transaction(async (tx) => {
    const [existing] = await findResources(tx, [uri], { lock: 'update' });
    if (!existing) throw new NotFound(`no resource with the URI ${uri}`);
    assertMayManage(actor, `the resource ${uri}`, existing.scopes);
    const clients = await listClientIdsForResource(tx, uri, 6);
    if (clients.length > 0) {
      const named = clients.slice(0, 5).join(', ') + (clients.length > 5 ? ', …' : '');
      throw new Conflict(`clients are registered for this resource (${named}); remove it from them first`);
    }
    await deleteResource(tx, uri);
    await recordAudit(tx, { actor, at: now, action: 'resource.delete', details: { resource: uri } });
  });
}

export async function getResource(db: Queryable, uri: string): Promise<Resource> {
  const [resource] = await findResources(db, [uri]);
  if (!resource) throw new NotFound(`no resource with the URI ${uri}`);
  return resource;
}

export function listResourcesPage(db: Queryable, page: { after?: string | undefined; limit: number }): Promise<Resource[]> {
  return listResources(db, page);
}

export function listEveryResource(db: Queryable): Promise<Resource[]> {
  return collectAllPages(
    (after: string | undefined, limit) => listResources(db, { after, limit }),
    (last) => last.uri,
  );
}

/** What a token is for: its resources (`aud`) and the scopes they define together. */
export interface TokenResources {
  uris: string[];
  scopes: string[];
}

/**
 * The resources a token request names (RFC 8707 §2), each checked against `allowed` (the client's,
 * or at a refresh the grant's that the client still has): any other is invalid_target. None named:
 * `fallback` (a refresh takes its grant's). Undefined when the token is for no resource (the
 * client's audience, or the issuer).
 */
export async function tokenResources(
  db: Queryable,
  request: { requested: readonly string[]; allowed: readonly string[]; fallback?: readonly string[] },
): Promise<TokenResources | undefined> {
  const uris = request.requested.length > 0 ? [...new Set(request.requested)] : [...(request.fallback ?? [])];
  if (uris.length === 0) return undefined;
  for (const uri of uris) {
    if (!request.allowed.includes(uri))
      throw new InvalidTarget(`the resource ${uri.slice(0, 256)} is not available to this client${request.fallback ? ' in this grant' : ''}`);
  }
  const found = await findResources(db, uris);
  if (found.length !== uris.length) throw new InvalidTarget('a requested resource is no longer registered');
  return { uris, scopes: [...new Set(found.flatMap((resource) => resource.scopes))] };
}
