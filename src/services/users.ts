import { randomUUID } from 'node:crypto';
import type { Clock } from '../lib/clock.js';
import { checkUsername } from '../lib/username.js';
import { hashPassword, passwordNeedsRehash, verifyAgainstDummy, verifyPassword } from '../lib/password.js';
import { Conflict, NotFound, ValidationError } from '../errors.js';
import type { Database, Queryable } from '../store/database.js';
import { findUserByUsername, insertUser, updateUser, type User } from '../store/users-repository.js';
import { revokeGrantsAndAudit } from './grants.js';
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

export async function createUser(db: Queryable, clock: Clock, input: UserInput, policy: PasswordPolicy): Promise<User> {
  const username = normalizeUsername(input.username);
  validatePassword(input.password, policy);
  if (input.email) validateEmail(input.email);
  const now = clock.now();
  const user: User = {
    id: randomUUID(),
    username,
    passwordHash: await hashPassword(input.password),
    email: input.email || null,
    name: input.name || null,
    scopes: validateScopes(input.scopes),
    disabled: false,
    createdAt: now,
    updatedAt: now,
  };
  if (!(await insertUser(db, user))) throw new Conflict(`a user named "${username}" already exists`);
  return user;
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
 * Changes an account. A new password or disabling the user ends every grant the user holds, in the
 * same transaction. Returns the user and how many grants were revoked.
 */
export async function changeUser(
  db: Database,
  clock: Clock,
  id: string,
  changes: UserChanges,
  context: { actor: string; policy: PasswordPolicy },
): Promise<{ user: User; revoked: number }> {
  const { actor } = context;
  if (changes.password !== undefined) validatePassword(changes.password, context.policy);
  if (changes.email) validateEmail(changes.email);
  const passwordHash = changes.password === undefined ? undefined : await hashPassword(changes.password);
  const now = clock.now();
  return db.transaction(async (tx) => {
    const user = await updateUser(tx, id, {
      passwordHash,
      disabled: changes.disabled,
      email: changes.email === undefined ? undefined : changes.email || null,
      name: changes.name === undefined ? undefined : changes.name || null,
      scopes: changes.scopes === undefined ? undefined : validateScopes(changes.scopes),
      updatedAt: now,
    });
    if (!user) throw new NotFound(`no user with id "${id}"`);
    let revoked = 0;
    if (changes.disabled === true || passwordHash !== undefined) {
      const reason = changes.disabled === true ? 'user_disabled' : 'password_changed';
      revoked = await revokeGrantsAndAudit(tx, { userId: id }, { actor, reason, now });
    }
    return { user, revoked };
  });
}
