import { randomUUID } from 'node:crypto';
import type { Deps } from '../deps.js';
import { checkUsername } from '../lib/username.js';
import { hashPassword, passwordNeedsRehash, verifyAgainstDummy, verifyPassword } from '../lib/password.js';
import { Conflict, NotFound, ValidationError } from '../errors.js';
import type { Queryable } from '../store/database.js';
import { deleteUser, findUserById, findUserByUsername, insertUser, listUsers, updateUser, type User } from '../store/users-repository.js';
import { collectAllPages } from './paging.js';
import { assertMayAssignScopes, assertMayManage, type Actor } from './actor.js';
import { recordAudit } from './audit.js';
import { revokeGrantsAndAudit } from './grants.js';
import { flipRevokedGrantTokens } from './status-lists.js';
import { validateScopes } from './clients.js';

export interface UserInput {
  username: string;
  password: string;
  email?: string | null | undefined;
  name?: string | null | undefined;
  scopes: string[];
}

/**
 * A username given to create or name a user (admin API, CLI, CSV import, filters, revocation): its
 * NFC form, or a ValidationError (400 invalid_request; a one-line CLI error) when no user can have
 * it. The rule is checkUsername's (src/lib/username.ts).
 */
export function normalizeUsername(value: string): string {
  const checked = checkUsername(value);
  if (!checked.valid) throw new ValidationError(checked.problem);
  return checked.username;
}

/** From configuration (PASSWORD_MIN_LENGTH). */
export interface PasswordPolicy {
  passwordMinLength: number;
}

export function validatePassword(password: string, policy: PasswordPolicy): void {
  if (password.length === 0) throw new ValidationError('the password must not be empty');
  if ([...password].length < policy.passwordMinLength) throw new ValidationError(`the password must be at least ${policy.passwordMinLength} characters`);
  if (password.length > 1024) throw new ValidationError('the password must be at most 1024 characters');
}

export function validateEmail(email: string): void {
  if (!/^[^\s@]+@[^\s@]+$/.test(email) || email.length > 320) throw new ValidationError(`invalid email address "${email}"`);
}

/** Creates a user and audits it in one transaction. An admin scope can be given only by an actor holding it. */
/** What changing users needs: the database, the time, and the password policy. */
export type UserChangeDeps = Pick<Deps, 'db' | 'clock'> & { config: PasswordPolicy };

export async function createUser(deps: UserChangeDeps, input: UserInput, actor: Actor): Promise<User> {
  const { db, clock, config: policy } = deps;
  const username = normalizeUsername(input.username);
  validatePassword(input.password, policy);
  if (input.email) validateEmail(input.email);
  const scopes = validateScopes(input.scopes);
  assertMayAssignScopes(actor, scopes);
  const now = clock.now();
  const user: User = {
    id: randomUUID(),
    username,
    passwordHash: await hashPassword(input.password),
    email: input.email || null,
    name: input.name || null,
    scopes,
    disabled: false,
    createdAt: now,
    updatedAt: now,
  };
  await db.transaction(async (tx) => {
    if (!(await insertUser(tx, user))) throw new Conflict(`a user named "${username}" already exists`);
    await recordAudit(tx, { actor, at: now, action: 'user.create', details: { user_id: user.id, username: user.username } });
  });
  return user;
}

/** The user with this id (the `sub` of its tokens), if any. */
export function findUser(db: Queryable, id: string): Promise<User | undefined> {
  return findUserById(db, id);
}

/**
 * The user when the password is right and the account enabled, otherwise undefined. The name is
 * looked up in NFC, as users are stored. An unknown username, or one no user can have, costs the
 * same argon2 verification as a wrong password, so timing tells nothing.
 */
export async function authenticateUser(db: Queryable, username: string, password: string): Promise<User | undefined> {
  const checked = checkUsername(username);
  const user = checked.valid ? await findUserByUsername(db, checked.username) : undefined;
  if (!user) return verifyAgainstDummy(password).then(() => undefined);
  const passwordMatches = await verifyPassword(user.passwordHash, password);
  if (!passwordMatches || user.disabled) return undefined;
  // Hashes made under older argon2 parameters are upgraded while the password is at hand.
  if (passwordNeedsRehash(user.passwordHash)) {
    await updateUser(db, user.id, { passwordHash: await hashPassword(password), updatedAt: user.updatedAt });
  }
  return user;
}

export interface UserChanges {
  password?: string | undefined;
  disabled?: boolean | undefined;
  email?: string | null | undefined;
  name?: string | null | undefined;
  scopes?: string[] | undefined;
}

/**
 * Changes an account and audits it in one transaction. A new password or disabling the user ends
 * every grant the user holds, in the same transaction. A user holding an admin scope the actor
 * lacks cannot be changed by it, and an admin scope can be added only by an actor holding it.
 * Returns the user and how many grants were revoked.
 */
export async function changeUser(deps: UserChangeDeps, id: string, changes: UserChanges, actor: Actor): Promise<{ user: User; revoked: number }> {
  const { db, clock } = deps;
  if (changes.password !== undefined) validatePassword(changes.password, deps.config);
  if (changes.email) validateEmail(changes.email);
  const scopes = changes.scopes === undefined ? undefined : validateScopes(changes.scopes);
  if (scopes !== undefined) assertMayAssignScopes(actor, scopes);
  const passwordHash = changes.password === undefined ? undefined : await hashPassword(changes.password);
  const now = clock.now();
  return db.transaction(async (tx) => {
    // Locked, so the rules judge the row as it is when the change lands.
    const existing = await findUserById(tx, id, { forUpdate: true });
    if (!existing) throw new NotFound(`no user with id "${id}"`);
    assertMayManage(actor, `the user "${existing.username}"`, existing.scopes);
    // The id as stored (a UUID in lower case, however the caller wrote it): the audit log names it so.
    const userId = existing.id;
    const user = await updateUser(tx, userId, {
      passwordHash,
      disabled: changes.disabled,
      email: changes.email === undefined ? undefined : changes.email || null,
      name: changes.name === undefined ? undefined : changes.name || null,
      scopes,
      updatedAt: now,
    });
    if (!user) throw new NotFound(`no user with id "${id}"`);
    let revoked = 0;
    if (changes.disabled === true || passwordHash !== undefined) {
      const reason = changes.disabled === true ? 'user_disabled' : 'password_changed';
      revoked = await revokeGrantsAndAudit(tx, { userId }, { actor, reason, now });
    }
    const fields = (Object.keys(changes) as (keyof UserChanges)[]).filter((name) => changes[name] !== undefined);
    await recordAudit(tx, { actor, at: now, action: 'user.update', details: { user_id: userId, fields }, count: revoked });
    return { user, revoked };
  });
}

/** Deletes a user: the grants go with it (cascade), so its tokens turn inactive at once. */
export async function removeUser(deps: Pick<Deps, 'db' | 'clock'>, id: string, actor: Actor): Promise<void> {
  const now = deps.clock.now();
  await deps.db.transaction(async (tx) => {
    const existing = await findUserById(tx, id, { forUpdate: true });
    if (!existing) throw new NotFound(`no user with id "${id}"`);
    assertMayManage(actor, `the user "${existing.username}"`, existing.scopes);
    // Before the cascade removes the grants that say which status bits are the user's.
    await flipRevokedGrantTokens(tx, { userId: existing.id }, now);
    await deleteUser(tx, existing.id);
    await recordAudit(tx, { actor, at: now, action: 'user.delete', details: { user_id: existing.id, username: existing.username } });
  });
}

/** The user with this id; NotFound otherwise. */
export async function getUser(db: Queryable, id: string): Promise<User> {
  const user = await findUserById(db, id);
  if (!user) throw new NotFound(`no user with id "${id}"`);
  return user;
}

/**
 * One page of users in username order (keyset pagination: `after` is the last username seen);
 * `search` keeps those whose username, email or name contains it, ignoring case.
 */
export function listUsersPage(db: Queryable, page: { after?: string | undefined; search?: string | undefined; limit: number }): Promise<User[]> {
  return listUsers(db, page);
}

/** Every user, in username order. */
export function listEveryUser(db: Queryable): Promise<User[]> {
  return collectAllPages(
    (after: string | undefined, limit) => listUsers(db, { after, limit }),
    (last) => last.username,
  );
}
