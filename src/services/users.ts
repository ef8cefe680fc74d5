import { randomUUID } from 'node:crypto';
import type { Clock } from '../lib/clock.js';
import { hashPassword, verifyAgainstDummy, verifyPassword } from '../lib/password.js';
import { Conflict, ValidationError } from '../errors.js';
import type { Queryable } from '../store/database.js';
import { findUserByUsername, insertUser, type User } from '../store/users-repository.js';
import { validateScopes } from './clients.js';

export interface UserInput {
  username: string;
  password: string;
  email?: string | null | undefined;
  name?: string | null | undefined;
  scopes: string[];
}

const CONTROL_CHARACTERS = /[\u0000-\u001F\u007F]/;

export function validateUsername(username: string): void {
  if (username.length < 1 || username.length > 255 || CONTROL_CHARACTERS.test(username) || username.trim() !== username) {
    throw new ValidationError('a username is 1 to 255 characters, without control characters or surrounding spaces');
  }
}

export function validatePassword(password: string): void {
  if (password.length === 0) throw new ValidationError('the password must not be empty');
  if (password.length > 1024) throw new ValidationError('the password must be at most 1024 characters');
}

export function validateEmail(email: string): void {
  if (!/^[^\s@]+@[^\s@]+$/.test(email) || email.length > 320) throw new ValidationError(`invalid email address "${email}"`);
}

export async function createUser(db: Queryable, clock: Clock, input: UserInput): Promise<User> {
  validateUsername(input.username);
  validatePassword(input.password);
  if (input.email) validateEmail(input.email);
  const now = clock.now();
  const user: User = {
    id: randomUUID(),
    username: input.username,
    passwordHash: await hashPassword(input.password),
    email: input.email || null,
    name: input.name || null,
    scopes: validateScopes(input.scopes),
    disabled: false,
    createdAt: now,
    updatedAt: now,
  };
  if (!(await insertUser(db, user))) throw new Conflict(`a user named "${input.username}" already exists`);
  return user;
}

/**
 * The user when the password is right and the account enabled, otherwise undefined. An unknown
 * username costs the same argon2 verification as a wrong password, so timing tells nothing.
 */
export async function authenticateUser(db: Queryable, username: string, password: string): Promise<User | undefined> {
  const user = await findUserByUsername(db, username);
  if (!user) return verifyAgainstDummy(password).then(() => undefined);
  const passwordMatches = await verifyPassword(user.passwordHash, password);
  return passwordMatches && !user.disabled ? user : undefined;
}
