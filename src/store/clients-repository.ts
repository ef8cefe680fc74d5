import type { Changes } from '../lib/changes.js';
import type { Queryable } from './database.js';

export interface ClientRow {
  id: string;
  secret_hash: string | null;
  grant_types: string[];
  scopes: string[];
  audience: string | null;
  dpop_bound_access_tokens: boolean;
  created_at: Date;
  updated_at: Date;
}

export interface Client {
  id: string;
  secretHash: string | null;
  grantTypes: string[];
  scopes: string[];
  audience: string | null;
  /** RFC 9449 §5.2: every token request must carry a DPoP proof. */
  dpopBoundAccessTokens: boolean;
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
    dpopBoundAccessTokens: row.dpop_bound_access_tokens ?? false,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** `forUpdate` locks the row for the rest of the caller's transaction. */
export async function findClientById(db: Queryable, id: string, options: { forUpdate?: boolean } = {}): Promise<Client | undefined> {
  const query = db<ClientRow>('clients').where({ id }).first();
  if (options.forUpdate) query.forUpdate();
  const row = await query;
  return row ? toClient(row) : undefined;
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
      dpop_bound_access_tokens: client.dpopBoundAccessTokens,
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
  changes: Changes<Pick<Client, 'secretHash' | 'grantTypes' | 'scopes' | 'audience' | 'dpopBoundAccessTokens'>> & { updatedAt: Date },
): Promise<Client | undefined> {
  const patch: Partial<ClientRow> = { updated_at: changes.updatedAt };
  if (changes.secretHash !== undefined) patch.secret_hash = changes.secretHash;
  if (changes.grantTypes !== undefined) patch.grant_types = changes.grantTypes;
  if (changes.scopes !== undefined) patch.scopes = changes.scopes;
  if (changes.audience !== undefined) patch.audience = changes.audience;
  if (changes.dpopBoundAccessTokens !== undefined) patch.dpop_bound_access_tokens = changes.dpopBoundAccessTokens;
  const [row] = await db<ClientRow>('clients').where({ id }).update(patch).returning('*');
  return row ? toClient(row) : undefined;
}

export async function deleteClient(db: Queryable, id: string): Promise<boolean> {
  // RETURNING rather than the affected-row count: knex-pglite does not report counts for DELETE.
  return (await db('clients').where({ id }).delete().returning('id')).length > 0;
}

/**
 * Ends every access token issued to the client up to `at` (its tokens_valid_after watermark, which
 * introspection compares with each token's issue time). False when there is no such client.
 */
export async function endClientTokensIssuedUpTo(db: Queryable, id: string, at: Date): Promise<boolean> {
  const rows = await db('clients').where({ id }).update({ tokens_valid_after: at }).returning('id');
  return rows.length > 0;
}

/** Keyset pagination by id. */
export async function listClients(db: Queryable, options: { after?: string | undefined; limit: number }): Promise<Client[]> {
  const query = db<ClientRow>('clients').orderBy('id').limit(options.limit);
  if (options.after !== undefined) query.where('id', '>', options.after);
  return (await query).map((row) => toClient(row));
}

/** Every scope some client may request (RFC 8414 scopes_supported). */
export async function listAllClientScopes(db: Queryable): Promise<string[]> {
  const rows = await db.raw<{ rows: { scope: string }[] }>('SELECT DISTINCT unnest(scopes) AS scope FROM clients ORDER BY 1');
  return rows.rows.map((r) => r.scope);
}
