import { sha256Hex } from '../lib/hash.js';
import { randomToken } from '../lib/random.js';
import { isValidScopeToken } from '../lib/scope.js';
import type { Knex } from 'knex';
import { checkClientJwks, checkJwksUri, type ClientJwkSet } from '../client-assertions/client-jwks.js';
import type { Deps } from '../deps.js';
import { Conflict, NotFound, ValidationError } from '../errors.js';
import { readsAsUuid } from '../lib/uuid.js';
import { announceClientChange } from '../store/client-change-notifications.js';
import type { Queryable } from '../store/database.js';
import {
  deleteClient,
  findClientById,
  insertClient,
  listAllClientScopes,
  listClients,
  updateClient,
  type Client,
  type ClientAuthenticationMethod,
} from '../store/clients-repository.js';
import { collectAllPages } from './paging.js';
import { assertMayAssignScopes, assertMayManage, type Actor } from './actor.js';
import { recordAudit } from './audit.js';
import { flipRevokedGrantTokens } from './status-lists.js';
import { assertResourcesExist, validateResourceList } from './resources.js';

/** The methods a client may be registered with; `client_secret_basic` accepts client_secret_post too. */
export const CLIENT_AUTHENTICATION_METHODS: readonly ClientAuthenticationMethod[] = ['client_secret_basic', 'private_key_jwt', 'none'];

export const GRANT_TYPES = ['password', 'refresh_token', 'client_credentials'] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

const CLIENT_ID = /^[\x21-\x7E]{1,255}$/;
export const MIN_SECRET_LENGTH = 32;

export interface ClientInput {
  id: string;
  /** Omitted for a confidential client: one is generated (256 random bits). */
  secret?: string | undefined;
  public?: boolean | undefined;
  grantTypes: string[];
  scopes: string[];
  audience?: string | null | undefined;
  /** RFC 8707 resources it may ask tokens for (each registered). */
  resources?: string[] | undefined;
  /** Default: `none` for a public client, else `client_secret_basic`. */
  authMethod?: ClientAuthenticationMethod | undefined;
  /** private_key_jwt: a JWK Set (an object) or the URL the client publishes one at; exactly one. */
  jwks?: unknown;
  jwksUri?: string | undefined;
  /** RFC 9449 §5.2 `dpop_bound_access_tokens`: every token request must carry a DPoP proof. */
  dpopBoundAccessTokens?: boolean | undefined;
}

export function validateGrantTypes(grantTypes: string[], isPublic: boolean): GrantType[] {
  if (grantTypes.length === 0) throw new ValidationError('at least one grant type is required');
  for (const grantType of grantTypes) {
    if (!(GRANT_TYPES as readonly string[]).includes(grantType)) {
      throw new ValidationError(`unknown grant type "${grantType}" (expected ${GRANT_TYPES.join(', ')})`);
    }
  }
  if (isPublic && grantTypes.includes('client_credentials')) {
    throw new ValidationError('a public client cannot use client_credentials');
  }
  return [...new Set(grantTypes)] as GrantType[];
}

export function validateScopes(scopes: string[]): string[] {
  for (const scope of scopes) {
    if (!isValidScopeToken(scope)) throw new ValidationError(`invalid scope "${scope}"`);
  }
  return [...new Set(scopes)];
}

export function validateClientSecret(secret: string): void {
  if (secret.length < MIN_SECRET_LENGTH) throw new ValidationError(`a client secret must be at least ${MIN_SECRET_LENGTH} characters`);
  if (secret.length > 1024) throw new ValidationError('a client secret must be at most 1024 characters');
}

/** The keys of a private_key_jwt client: exactly one of a JWK Set and a jwks_uri, each checked. */
function validateClientKeys(jwks: unknown, jwksUri: string | undefined): { jwks: ClientJwkSet | null; jwksUri: string | null } {
  if ((jwks === undefined || jwks === null) === (jwksUri === undefined))
    throw new ValidationError('a private_key_jwt client needs exactly one of jwks and jwks_uri');
  if (jwksUri !== undefined) {
    const checked = checkJwksUri(jwksUri);
    if (!checked.valid) throw new ValidationError(checked.problem);
    return { jwks: null, jwksUri: checked.uri };
  }
  const checked = checkClientJwks(jwks);
  if (!checked.valid) throw new ValidationError(`jwks: ${checked.problem}`);
  return { jwks: checked.jwks, jwksUri: null };
}

/** Checks a registration without touching the database (the CLI refuses bad arguments before opening it). */
export function validateClientInput(input: ClientInput): {
  isPublic: boolean;
  grantTypes: GrantType[];
  scopes: string[];
  resources: string[];
  authMethod: ClientAuthenticationMethod;
  keys: { jwks: ClientJwkSet | null; jwksUri: string | null };
} {
  if (!CLIENT_ID.test(input.id)) throw new ValidationError('a client id is 1 to 255 printable characters without spaces');
  // client_credentials tokens carry the client id as `sub`; one shaped like a user id could pass for
  // that user's (RFC 9068 §5).
  if (readsAsUuid(input.id)) throw new ValidationError('a client id must not have the form of a user id (a UUID, however written)');
  const authMethod = input.authMethod ?? (input.public === true ? 'none' : 'client_secret_basic');
  if (!CLIENT_AUTHENTICATION_METHODS.includes(authMethod)) {
    throw new ValidationError(`unknown authentication method "${String(authMethod)}" (expected ${CLIENT_AUTHENTICATION_METHODS.join(', ')})`);
  }
  if (input.public === true && authMethod !== 'none') throw new ValidationError('a public client authenticates with none');
  const isPublic = authMethod === 'none';
  if (isPublic && input.secret !== undefined) throw new ValidationError('a public client has no secret');
  if (authMethod === 'private_key_jwt' && input.secret !== undefined) throw new ValidationError('a private_key_jwt client has no secret');
  const keys =
    authMethod === 'private_key_jwt'
      ? validateClientKeys(input.jwks, input.jwksUri)
      : input.jwks !== undefined || input.jwksUri !== undefined
        ? (() => {
            throw new ValidationError('jwks and jwks_uri are for private_key_jwt clients');
          })()
        : { jwks: null, jwksUri: null };
  const grantTypes = validateGrantTypes(input.grantTypes, isPublic);
  const scopes = validateScopes(input.scopes);
  if (input.audience !== undefined && input.audience !== null && input.audience.trim() === '') throw new ValidationError('audience must not be empty');
  if (authMethod === 'client_secret_basic' && input.secret !== undefined) validateClientSecret(input.secret);
  const resources = validateResourceList(input.resources ?? []);
  return { isPublic, grantTypes, scopes, resources, authMethod, keys };
}

/** A public client: no secret, no keys; it names itself with client_id only. */
export function isPublicClient(client: Pick<Client, 'authMethod'>): boolean {
  return client.authMethod === 'none';
}

/**
 * Registers a client and audits it in one transaction; returns the secret once (it is stored only
 * as SHA-256). An admin scope can be given only by an actor holding it.
 */
/** What changing clients needs: the database, the time, and the cache of client authentications to empty. */
export type ClientChangeDeps = Pick<Deps, 'db' | 'clock' | 'clientAuthentication'>;

/** Runs a change to the clients table and empties the authentication cache around it, here and on every other instance. */
async function changingClients<T>(deps: ClientChangeDeps, change: (tx: Knex.Transaction) => Promise<T>): Promise<T> {
  deps.clientAuthentication.forget();
  try {
    return await deps.db.transaction(async (tx) => {
      const result = await change(tx);
      // Every other instance empties its cache too when this commits (services/client-changes.ts).
      await announceClientChange(tx);
      return result;
    });
  } finally {
    // Also after the commit: a lookup that read the old row meanwhile must not be remembered.
    deps.clientAuthentication.forget();
  }
}

export async function createClient(deps: ClientChangeDeps, input: ClientInput, actor: Actor): Promise<{ client: Client; clientSecret: string | null }> {
  const { grantTypes, scopes, resources, authMethod, keys } = validateClientInput(input);
  assertMayAssignScopes(actor, scopes);
  const clientSecret: string | null = authMethod === 'client_secret_basic' ? (input.secret ?? randomToken(32)) : null;
  const now = deps.clock.now();
  const client: Client = {
    id: input.id,
    secretHash: clientSecret === null ? null : sha256Hex(clientSecret),
    grantTypes,
    scopes,
    audience: input.audience ?? null,
    resources,
    authMethod,
    ...keys,
    dpopBoundAccessTokens: input.dpopBoundAccessTokens === true,
    createdAt: now,
    updatedAt: now,
  };
  await changingClients(deps, async (tx) => {
    await assertResourcesExist(tx, resources);
    if (!(await insertClient(tx, client))) throw new Conflict(`a client with id "${input.id}" already exists`);
    await recordAudit(tx, { actor, at: now, action: 'client.create', details: { client_id: client.id } });
  });
  return { client, clientSecret };
}

export interface ClientChanges {
  grantTypes?: string[] | undefined;
  scopes?: string[] | undefined;
  audience?: string | null | undefined;
  dpopBoundAccessTokens?: boolean | undefined;
  /** A new secret to set (at least 32 characters). */
  secret?: string | undefined;
  /** Generate a new secret and return it once. */
  rotateSecret?: boolean | undefined;
  resources?: string[] | undefined;
  /** private_key_jwt clients: new keys (one of the two; the other is cleared). */
  jwks?: unknown;
  jwksUri?: string | undefined;
}

/** The audit log speaks the admin API's field names. */
const CHANGE_FIELD_NAMES: Record<keyof ClientChanges, string> = {
  grantTypes: 'grant_types',
  scopes: 'scopes',
  audience: 'audience',
  dpopBoundAccessTokens: 'dpop_bound_access_tokens',
  secret: 'client_secret',
  rotateSecret: 'rotate_secret',
  resources: 'resources',
  jwks: 'jwks',
  jwksUri: 'jwks_uri',
};

/**
 * Changes a client and audits it in one transaction. A client holding an admin scope the actor
 * lacks cannot be changed by it at all, and an admin scope can be added only by an actor holding it.
 */
export async function changeClient(
  deps: ClientChangeDeps,
  id: string,
  changes: ClientChanges,
  actor: Actor,
): Promise<{ client: Client; clientSecret: string | null }> {
  if (changes.secret !== undefined && changes.rotateSecret) throw new ValidationError('give client_secret or rotate_secret, not both');
  if (changes.secret !== undefined) validateClientSecret(changes.secret);
  if (changes.audience !== undefined && changes.audience !== null && changes.audience.trim() === '') throw new ValidationError('audience must not be empty');
  const scopes = changes.scopes === undefined ? undefined : validateScopes(changes.scopes);
  if (scopes !== undefined) assertMayAssignScopes(actor, scopes);
  const resources = changes.resources === undefined ? undefined : validateResourceList(changes.resources);
  const newKeys = changes.jwks === undefined && changes.jwksUri === undefined ? undefined : validateClientKeys(changes.jwks, changes.jwksUri);
  const now = deps.clock.now();
  return changingClients(deps, async (tx) => {
    // Locked, so the rules below judge the row as it is when the change lands.
    const existing = await findClientById(tx, id, { forUpdate: true });
    if (!existing) throw new NotFound(`no client with id "${id}"`);
    assertMayManage(actor, `the client "${id}"`, existing.scopes);
    const isPublic = isPublicClient(existing);
    if (existing.authMethod !== 'client_secret_basic' && (changes.secret !== undefined || changes.rotateSecret)) {
      throw new ValidationError(isPublic ? 'a public client has no secret' : 'a private_key_jwt client has no secret');
    }
    if (newKeys && existing.authMethod !== 'private_key_jwt') throw new ValidationError('jwks and jwks_uri are for private_key_jwt clients');
    if (resources !== undefined) await assertResourcesExist(tx, resources);
    const clientSecret = changes.rotateSecret ? randomToken(32) : (changes.secret ?? null);
    const updated = await updateClient(tx, id, {
      grantTypes: changes.grantTypes === undefined ? undefined : validateGrantTypes(changes.grantTypes, isPublic),
      scopes,
      audience: changes.audience,
      resources,
      jwks: newKeys?.jwks,
      jwksUri: newKeys?.jwksUri,
      dpopBoundAccessTokens: changes.dpopBoundAccessTokens,
      secretHash: clientSecret === null ? undefined : sha256Hex(clientSecret),
      updatedAt: now,
    });
    if (!updated) throw new NotFound(`no client with id "${id}"`);
    const fields = (Object.keys(CHANGE_FIELD_NAMES) as (keyof ClientChanges)[])
      .filter((name) => changes[name] !== undefined)
      .map((name) => CHANGE_FIELD_NAMES[name]);
    await recordAudit(tx, { actor, at: now, action: 'client.update', details: { client_id: id, fields } });
    return { client: updated, clientSecret };
  });
}

/**
 * Deletes a client: its grants and refresh tokens go with it (cascade), and its access tokens turn
 * inactive, also should a client be created later under the same id (they were issued before it).
 */
export async function removeClient(deps: ClientChangeDeps, id: string, actor: Actor): Promise<void> {
  const now = deps.clock.now();
  await changingClients(deps, async (tx) => {
    const existing = await findClientById(tx, id, { forUpdate: true });
    if (!existing) throw new NotFound(`no client with id "${id}"`);
    assertMayManage(actor, `the client "${id}"`, existing.scopes);
    // Before the cascade removes the grants that say which status bits are the client's.
    await flipRevokedGrantTokens(tx, { clientId: id }, now);
    await deleteClient(tx, id);
    await recordAudit(tx, { actor, at: now, action: 'client.delete', details: { client_id: id } });
  });
}

/** The client with this id; NotFound otherwise. */
export async function getClient(db: Queryable, id: string): Promise<Client> {
  const client = await findClientById(db, id);
  if (!client) throw new NotFound(`no client with id "${id}"`);
  return client;
}

/** One page of clients in id order (keyset pagination: `after` is the last id seen). */
export function listClientsPage(db: Queryable, page: { after?: string | undefined; limit: number }): Promise<Client[]> {
  return listClients(db, page);
}

/** Every client, in id order. */
export function listEveryClient(db: Queryable): Promise<Client[]> {
  return collectAllPages(
    (after: string | undefined, limit) => listClients(db, { after, limit }),
    (last) => last.id,
  );
}

/** Every scope some client may request (RFC 8414 scopes_supported). */
export function allClientScopes(db: Queryable): Promise<string[]> {
  return listAllClientScopes(db);
}
