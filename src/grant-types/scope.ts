import { InvalidScope } from '../errors.js';
import { intersectScopes, isSubset, isValidScopeToken } from '../lib/scope.js';

/** Reads the `scope` parameter (RFC 6749 §3.3: space-delimited). */
export function requestedScopes(scope: string | undefined): string[] {
  if (scope === undefined) return [];
  const scopes = [...new Set(scope.split(' ').filter((s) => s !== ''))];
  if (scopes.some((s) => !isValidScopeToken(s))) throw new InvalidScope('the scope parameter is malformed');
  return scopes;
}

/**
 * The scope to grant: what was asked for (or, if nothing, everything `ceiling` allows), limited by
 * each of `limits`. Asking beyond the ceiling, or ending with nothing, is invalid_scope.
 */
export function grantScopes(requested: string[], ceiling: string[], ...limits: string[][]): string[] {
  if (requested.length > 0 && !isSubset(requested, ceiling)) {
    const extra = requested.filter((s) => !ceiling.includes(s));
    throw new InvalidScope(`scope not allowed: ${extra.join(' ')}`);
  }
  let granted = requested.length > 0 ? requested : ceiling;
  for (const limit of limits) granted = intersectScopes(granted, limit);
  if (granted.length === 0) throw new InvalidScope('none of the requested scopes can be granted');
  return granted;
}
