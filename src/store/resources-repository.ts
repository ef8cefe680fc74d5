import type { Queryable } from './database.js';

export interface ResourceRow {
  uri: string;
  scopes: string[];
  created_at: Date;
  updated_at: Date;
}

/** An API that access tokens may be meant for (RFC 8707): its identifier and the scopes it defines. */
export interface Resource {
  uri: string;
  scopes: string[];
  createdAt: Date;
  updatedAt: Date;
}

export function toResource(row: ResourceRow): Resource {
  return { uri: row.uri, scopes: row.scopes, createdAt: row.created_at, updatedAt: row.updated_at };
}

/** Returns false when the URI is taken. */
export async function insertResource(db: Queryable, resource: Resource): Promise<boolean> {
  const rows = await db('resources')
    .insert({ uri: resource.uri, scopes: resource.scopes, created_at: resource.createdAt, updated_at: resource.updatedAt })
    .onConflict('uri')
    .ignore()
    .returning('uri');
  return rows.length === 1;
}

/** `lock`: `update` for a change to the resource, `share` to keep it from being deleted meanwhile. */
export async function findResources(db: Queryable, uris: readonly string[], options: { lock?: 'update' | 'share' } = {}): Promise<Resource[]> {
  if (uris.length === 0) return [];
  const query = db<ResourceRow>('resources')
    .whereIn('uri', [...uris])
    .orderBy('uri');
  if (options.lock === 'update') query.forUpdate();
  if (options.lock === 'share') query.forShare();
  return (await query).map((row) => toResource(row));
}

export async function updateResourceScopes(db: Queryable, uri: string, scopes: string[], at: Date): Promise<Resource | undefined> {
  const [row] = await db<ResourceRow>('resources').where({ uri }).update({ scopes, updated_at: at }).returning('*');
  return row ? toResource(row) : undefined;
}

export async function deleteResource(db: Queryable, uri: string): Promise<boolean> {
  return (await db('resources').where({ uri }).delete().returning('uri')).length > 0;
}

/** Keyset pagination by URI. */
export async function listResources(db: Queryable, options: { after?: string | undefined; limit: number }): Promise<Resource[]> {
  const query = db<ResourceRow>('resources').orderBy('uri').limit(options.limit);
  if (options.after !== undefined) query.where('uri', '>', options.after);
  return (await query).map((row) => toResource(row));
}

/** Ids of the clients (at most `limit`) registered for this resource. */
export async function listClientIdsForResource(db: Queryable, uri: string, limit: number): Promise<string[]> {
  const rows = await db.raw<{ rows: { id: string }[] }>('SELECT id FROM clients WHERE ? = ANY(resources) ORDER BY id LIMIT ?', [uri, limit]);
  return rows.rows.map((row) => row.id);
}
