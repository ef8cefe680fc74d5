import { digestsEqual, sha256Hex } from '../lib/hash.js';
import { randomToken } from '../lib/random.js';
import { isValidScopeToken } from '../lib/scope.js';
import type { Clock } from '../lib/clock.js';
import { Conflict, NotFound, ValidationError } from '../errors.js';
import { isUuid } from '../lib/uuid.js';
import type { Database, Queryable } from '../store/database.js';
import { clientsGeneration, deleteClient, findClientById, insertClient, updateClient, type Client } from '../store/clients-repository.js';
import { assertMayAssignScopes, assertMayManage, type Actor } from './actor.js';
import { recordAudit } from './audit.js';

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

/** Checks a registration without touching the database (the CLI refuses bad arguments before opening it). */
export function validateClientInput(input: ClientInput): { isPublic: boolean; grantTypes: GrantType[]; scopes: string[] } {
  if (!CLIENT_ID.test(input.id)) throw new ValidationError('a client id is 1 to 255 printable characters without spaces');
  // client_credentials tokens carry the client id as `sub`; one shaped like a user id could pass for
  // that user's (RFC 9068 §5).
  if (isUuid(input.id)) throw new ValidationError('a client id must not have the form of a user id (a UUID)');
  const isPublic = input.public === true;
  if (isPublic && input.secret !== undefined) throw new ValidationError('a public client has no secret');
  const grantTypes = validateGrantTypes(input.grantTypes, isPublic);
  const scopes = validateScopes(input.scopes);
  if (input.audience !== undefined && input.audience !== null && input.audience.trim() === '') throw new ValidationError('audience must not be empty');
  if (!isPublic && input.secret !== undefined) validateClientSecret(input.secret);
  return { isPublic, grantTypes, scopes };
}

/**
 * Registers a client and audits it in one transaction; returns the secret once (it is stored only
 * as SHA-256). An admin scope can be given only by an actor holding it.
 */
export async function createClient(db: Database, clock: Clock, input: ClientInput, actor: Actor): Promise<{ client: Client; clientSecret: string | null }> {
  const { isPublic, grantTypes, scopes } = validateClientInput(input);
  assertMayAssignScopes(actor, scopes);
  const clientSecret: string | null = isPublic ? null : (input.secret ?? randomToken(32));
  const now = clock.now();
  const client: Client = {
    id: input.id,
    secretHash: clientSecret === null ? null : sha256Hex(clientSecret),
    grantTypes,
    scopes,
    audience: input.audience ?? null,
    createdAt: now,
    updatedAt: now,
  };
  await db.transaction(async (tx) => {
    if (!(await insertClient(tx, client))) throw new Conflict(`a client with id "${input.id}" already exists`);
    await recordAudit(tx, { actor, at: now, action: 'client.create', details: { client_id: client.id } });
  });
  return { client, clientSecret };
}

export interface PresentedCredentials {
  clientId: string;
  /** Absent for the `none` method (public clients). */
  secret?: string | undefined;
}

/**
 * Successful client authentications are remembered for CLIENT_AUTH_CACHE_TTL_MS, keyed by a hash of
 * id and secret, sparing the client lookup on every /token, /introspect and /revoke request. Only
 * successes: an unknown id and a wrong secret both still ask the database, so response times do
 * not tell which client ids exist, and a client created by another process works at once. A write
 * to the clients table in this process empties the cache; a client deleted or given a new secret
 * elsewhere (another instance, the CLI) keeps authenticating there for at most the TTL.
 */
export const CLIENT_AUTH_CACHE_TTL_MS = 2_000;
const CLIENT_AUTH_CACHE_MAX_ENTRIES = 10_000;
const authenticated = new WeakMap<object, Map<string, { client: Client; until: number; generation: number }>>();

/** The client when the credentials are right, otherwise undefined. Constant-time on the secret. */
export async function verifyClientCredentials(db: Queryable, credentials: PresentedCredentials): Promise<Client | undefined> {
  const presentedHash = sha256Hex(credentials.secret ?? '');
  const cacheKey = sha256Hex(`${credentials.clientId}\u0000${credentials.secret === undefined ? 'none' : `secret:${presentedHash}`}`);
  let cache = authenticated.get(db);
  if (!cache) authenticated.set(db, (cache = new Map()));
  const now = performance.now();
  const hit = cache.get(cacheKey);
  if (hit && hit.until > now && hit.generation === clientsGeneration()) return hit.client;

  const generation = clientsGeneration();
  const client = await findClientById(db, credentials.clientId);
  if (!client) return undefined;
  let verified: boolean;
  if (client.secretHash === null) verified = credentials.secret === undefined;
  else verified = credentials.secret !== undefined && digestsEqual(presentedHash, client.secretHash);
  if (!verified) return undefined;
  // A write that landed while this read ran may not be in it: remember nothing then.
  if (generation === clientsGeneration()) {
    if (cache.size >= CLIENT_AUTH_CACHE_MAX_ENTRIES) cache.clear();
    cache.set(cacheKey, { client, until: now + CLIENT_AUTH_CACHE_TTL_MS, generation });
  }
  return client;
}

export interface ClientChanges {
  grantTypes?: string[] | undefined;
  scopes?: string[] | undefined;
  audience?: string | null | undefined;
  /** A new secret to set (at least 32 characters). */
  secret?: string | undefined;
  /** Generate a new secret and return it once. */
  rotateSecret?: boolean | undefined;
}

/** The audit log speaks the admin API's field names. */
const CHANGE_FIELD_NAMES: Record<keyof ClientChanges, string> = {
  grantTypes: 'grant_types',
  scopes: 'scopes',
  audience: 'audience',
  secret: 'client_secret',
  rotateSecret: 'rotate_secret',
};

/**
 * Changes a client and audits it in one transaction. A client holding an admin scope the actor
 * lacks cannot be changed by it at all, and an admin scope can be added only by an actor holding it.
 */
export async function changeClient(
  db: Database,
  clock: Clock,
  id: string,
  changes: ClientChanges,
  actor: Actor,
): Promise<{ client: Client; clientSecret: string | null }> {
  if (changes.secret !== undefined && changes.rotateSecret) throw new ValidationError('give client_secret or rotate_secret, not both');
  if (changes.secret !== undefined) validateClientSecret(changes.secret);
  if (changes.audience !== undefined && changes.audience !== null && changes.audience.trim() === '') throw new ValidationError('audience must not be empty');
  const scopes = changes.scopes === undefined ? undefined : validateScopes(changes.scopes);
  if (scopes !== undefined) assertMayAssignScopes(actor, scopes);
  const now = clock.now();
  return db.transaction(async (tx) => {
    // Locked, so the rules below judge the row as it is when the change lands.
    const existing = await findClientById(tx, id, { forUpdate: true });
    if (!existing) throw new NotFound(`no client with id "${id}"`);
    assertMayManage(actor, `the client "${id}"`, existing.scopes);
    const isPublic = existing.secretHash === null;
    if (isPublic && (changes.secret !== undefined || changes.rotateSecret)) throw new ValidationError('a public client has no secret');
    const clientSecret = changes.rotateSecret ? randomToken(32) : (changes.secret ?? null);
    const updated = await updateClient(tx, id, {
      grantTypes: changes.grantTypes === undefined ? undefined : validateGrantTypes(changes.grantTypes, isPublic),
      scopes,
      audience: changes.audience,
      secretHash: clientSecret === null ? undefined : sha256Hex(clientSecret),
      updatedAt: now,
    });
    if (!updated) throw new NotFound(`no client with id "${id}"`);
    const fields = (Object.keys(CHANGE_FIELD_NAMES) as (keyof ClientChanges)[]).filter((name) => changes[name] !== undefined).map((name) => CHANGE_FIELD_NAMES[name]);
    await recordAudit(tx, { actor, at: now, action: 'client.update', details: { client_id: id, fields } });
    return { client: updated, clientSecret };
  });
}

/**
 * Deletes a client: its grants and refresh tokens go with it (cascade), and its access tokens turn
 * inactive, also should a client be created later under the same id (they were issued before it).
 */
export async function removeClient(db: Database, clock: Clock, id: string, actor: Actor): Promise<void> {
  const now = clock.now();
  await db.transaction(async (tx) => {
    const existing = await findClientById(tx, id, { forUpdate: true });
    if (!existing) throw new NotFound(`no client with id "${id}"`);
    assertMayManage(actor, `the client "${id}"`, existing.scopes);
    await deleteClient(tx, id);
    await recordAudit(tx, { actor, at: now, action: 'client.delete', details: { client_id: id } });
  });
}
