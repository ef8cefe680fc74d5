import { InsufficientScope } from '../errors.js';
import type { AuditActorFields } from '../store/audit-repository.js';

/**
 * Who asks for a change. The audit log records it, and the admin rules below limit it: the CLI is
 * the operator's root and unrestricted; an admin API caller holds the scopes of its token.
 */
export type Actor =
  | { type: 'cli' }
  | { type: 'system' }
  /** A client acting on its own tokens (RFC 7009, refresh-token reuse). */
  | { type: 'client'; clientId: string }
  /** An admin API caller: a client's own token (client_credentials) or a user's (userId set). */
  | { type: 'admin'; clientId: string; userId: string | null; scopes: readonly string[] };

export const CLI_ACTOR: Actor = Object.freeze({ type: 'cli' });
export const SYSTEM_ACTOR: Actor = Object.freeze({ type: 'system' });

export function auditActorFields(actor: Actor): AuditActorFields {
  switch (actor.type) {
    case 'cli':
    case 'system':
      return { actorType: actor.type, actorId: null, actorClientId: null };
    case 'client':
      return { actorType: 'client', actorId: actor.clientId, actorClientId: null };
    case 'admin':
      return actor.userId === null
        ? { actorType: 'client', actorId: actor.clientId, actorClientId: null }
        : { actorType: 'user', actorId: actor.userId, actorClientId: actor.clientId };
  }
}

/** Scopes that confer authority over Gatehouse itself. */
export function isAdminScope(scope: string): boolean {
  return scope.startsWith('admin:');
}

/** The admin scopes in `scopes` that `actor` does not hold (none for the CLI). */
function adminScopesLacked(actor: Actor, scopes: readonly string[]): string[] {
  if (actor.type !== 'admin') return [];
  const held = new Set(actor.scopes);
  return scopes.filter((scope) => isAdminScope(scope) && !held.has(scope));
}

/**
 * A caller can never grant authority it does not hold: an admin scope may be put on a client or
 * user only by a caller whose token carries it. Ordinary scopes are assigned freely.
 */
export function assertMayAssignScopes(actor: Actor, scopes: readonly string[]): void {
  const lacked = adminScopesLacked(actor, scopes);
  if (lacked.length > 0) throw new InsufficientScope(lacked.join(' '), `only a caller holding ${lacked.join(' ')} may assign it`);
}

/**
 * A client or user holding an admin scope the caller lacks cannot be changed or deleted by it
 * (secret, scopes, password, disabling, deletion): otherwise changing its secret or password would
 * hand the caller that authority.
 */
export function assertMayManage(actor: Actor, what: string, subjectScopes: readonly string[]): void {
  const lacked = adminScopesLacked(actor, subjectScopes);
  if (lacked.length > 0) throw new InsufficientScope(lacked.join(' '), `${what} holds ${lacked.join(' ')}, which this token lacks`);
}
