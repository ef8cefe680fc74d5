import type { Queryable } from './database.js';

export interface ClientRow {
  id: string;
  secret_hash: string | null;
  grant_types: string[];
  scopes: string[];
  audience: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface Client {
  id: string;
  secretHash: string | null;
  grantTypes: string[];
  scopes: string[];
  audience: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export function toClient(row: ClientRow): Client {
  return {
    id: row.id,
    secretHash: row.secret_hash,
    grantTypes: row.grant_types,
    scopes: row.scopes,
    audience: row.audience,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export async function findClientById(db: Queryable, id: string): Promise<Client | undefined> {
  const row = await db<ClientRow>('clients').where({ id }).first();
  return row ? toClient(row) : undefined;
}

/**
 * Client authentication runs on every /token, /introspect and /revoke request, so found clients are
 * kept in memory for CLIENT_CACHE_TTL_MS. A change through updateClient/deleteClient in this process
 * empties the cache at once; another instance (or process) sees it within the TTL, which bounds how
 * long a deleted client or a rotated-away secret keeps working there. Misses are not cached, so a
 * new client works at once everywhere.
 */
export const CLIENT_CACHE_TTL_MS = 2_000;
const CLIENT_CACHE_MAX_ENTRIES = 10_000;
const clientCaches = new WeakMap<object, Map<string, { client: Client; until: number; generation: number }>>();
let clientCacheGeneration = 0;

function forgetCachedClients(): void {
  clientCacheGeneration++;
}

export async function findClientByIdCached(db: Queryable, id: string): Promise<Client | undefined> {
  let cache = clientCaches.get(db);
  if (!cache) clientCaches.set(db, (cache = new Map()));
  const now = performance.now();
  const hit = cache.get(id);
  if (hit && hit.until > now && hit.generation === clientCacheGeneration) return hit.client;
  const generation = clientCacheGeneration;
  const client = await findClientById(db, id);
  // A change that landed while this read ran may not be in it: keep nothing then.
  if (client && generation === clientCacheGeneration) {
    if (cache.size >= CLIENT_CACHE_MAX_ENTRIES) cache.clear();
    cache.set(id, { client, until: now + CLIENT_CACHE_TTL_MS, generation });
  }
  return client;
}

/** Returns false when the id is taken. */
export async function insertClient(db: Queryable, client: Client): Promise<boolean> {
  const rows = await db('clients')
    .insert({
      id: client.id,
      secret_hash: client.secretHash,
      grant_types: client.grantTypes,
      scopes: client.scopes,
      audience: client.audience,
      created_at: client.createdAt,
      updated_at: client.updatedAt,
    })
    .onConflict('id')
    .ignore()
    .returning('id');
  return rows.length === 1;
}

export async function updateClient(
  db: Queryable,
  id: string,
  changes: Partial<Pick<Client, 'secretHash' | 'grantTypes' | 'scopes' | 'audience'>> & { updatedAt: Date },
): Promise<Client | undefined> {
  const patch: Partial<ClientRow> = { updated_at: changes.updatedAt };
  if (changes.secretHash !== undefined) patch.secret_hash = changes.secretHash;
  if (changes.grantTypes !== undefined) patch.grant_types = changes.grantTypes;
  if (changes.scopes !== undefined) patch.scopes = changes.scopes;
  if (changes.audience !== undefined) patch.audience = changes.audience;
  forgetCachedClients();
  try {
    const [row] = await db<ClientRow>('clients').where({ id }).update(patch).returning('*');
    return row ? toClient(row as ClientRow) : undefined;
  } finally {
    forgetCachedClients();
  }
}

export async function deleteClient(db: Queryable, id: string): Promise<boolean> {
  forgetCachedClients();
  try {
    // RETURNING rather than the affected-row count: knex-pglite does not report counts for DELETE.
    return (await db('clients').where({ id }).delete().returning('id')).length > 0;
  } finally {
    forgetCachedClients();
  }
}

/** Keyset pagination by id. */
export async function listClients(db: Queryable, options: { after?: string | undefined; limit: number }): Promise<Client[]> {
  const query = db<ClientRow>('clients').orderBy('id').limit(options.limit);
  if (options.after !== undefined) query.where('id', '>', options.after);
  return (await query).map((row) => toClient(row as ClientRow));
}

/** Every scope some client may request (RFC 8414 scopes_supported). */
export async function listAllClientScopes(db: Queryable): Promise<string[]> {
  const rows = await db.raw<{ rows: { scope: string }[] }>('SELECT DISTINCT unnest(scopes) AS scope FROM clients ORDER BY 1');
  return rows.rows.map((r) => r.scope);
}
