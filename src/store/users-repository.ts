import type { Changes } from '../lib/changes.js';
import type { Queryable } from './database.js';
import { isUuid } from '../lib/uuid.js';

export interface UserRow {
  id: string;
  username: string;
  password_hash: string;
  email: string | null;
  name: string | null;
  scopes: string[];
  disabled: boolean;
  created_at: Date;
  updated_at: Date;
}

export interface User {
  id: string;
  username: string;
  passwordHash: string;
  email: string | null;
  name: string | null;
  scopes: string[];
  disabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export function toUser(row: UserRow): User {
  return {
    id: row.id,
    username: row.username,
    passwordHash: row.password_hash,
    email: row.email,
    name: row.name,
    scopes: row.scopes,
    disabled: row.disabled,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export async function findUserByUsername(db: Queryable, username: string): Promise<User | undefined> {
  const row = await db<UserRow>('users').where({ username }).first();
  return row ? toUser(row) : undefined;
}

/** `forUpdate` locks the row for the rest of the caller's transaction. */
export async function findUserById(db: Queryable, id: string, options: { forUpdate?: boolean } = {}): Promise<User | undefined> {
  if (!isUuid(id)) return undefined;
  const query = db<UserRow>('users').where({ id }).first();
  if (options.forUpdate) query.forUpdate();
  const row = await query;
  return row ? toUser(row) : undefined;
}

/** Returns false when the username is taken. */
export async function insertUser(db: Queryable, user: User): Promise<boolean> {
  const rows = await db('users')
    .insert({
      id: user.id,
      username: user.username,
      password_hash: user.passwordHash,
      email: user.email,
      name: user.name,
      scopes: user.scopes,
      disabled: user.disabled,
      created_at: user.createdAt,
      updated_at: user.updatedAt,
    })
    .onConflict('username')
    .ignore()
    .returning('id');
  return rows.length === 1;
}

export async function updateUser(
  db: Queryable,
  id: string,
  changes: Changes<Pick<User, 'passwordHash' | 'email' | 'name' | 'scopes' | 'disabled'>> & { updatedAt: Date },
): Promise<User | undefined> {
  if (!isUuid(id)) return undefined;
  const patch: Partial<UserRow> = { updated_at: changes.updatedAt };
  if (changes.passwordHash !== undefined) patch.password_hash = changes.passwordHash;
  if (changes.email !== undefined) patch.email = changes.email;
  if (changes.name !== undefined) patch.name = changes.name;
  if (changes.scopes !== undefined) patch.scopes = changes.scopes;
  if (changes.disabled !== undefined) patch.disabled = changes.disabled;
  const [row] = await db<UserRow>('users').where({ id }).update(patch).returning('*');
  return row ? toUser(row) : undefined;
}

export async function deleteUser(db: Queryable, id: string): Promise<boolean> {
  if (!isUuid(id)) return false;
  return (await db('users').where({ id }).delete().returning('id')).length > 0;
}

/** `text` as a LIKE pattern that matches it literally, anywhere in the value. */
function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
}

/**
 * Keyset pagination by username. `search`: only users whose username, email or name contains it,
 * ignoring case.
 */
export async function listUsers(db: Queryable, options: { after?: string | undefined; search?: string | undefined; limit: number }): Promise<User[]> {
  const query = db<UserRow>('users').orderBy('username').limit(options.limit);
  if (options.after !== undefined) query.where('username', '>', options.after);
  if (options.search !== undefined) {
    const pattern = containsPattern(options.search);
    query.where((match) => {
      void match.whereILike('username', pattern).orWhereILike('email', pattern).orWhereILike('name', pattern);
    });
  }
  return (await query).map((row) => toUser(row));
}
