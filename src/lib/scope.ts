/** Scopes are sets of space-delimited tokens (RFC 6749 §3.3); lists on the CLI may use commas too. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

export function parseScope(value: string | undefined | null): string[] {
  if (!value) return [];
  return [...new Set(value.split(/[\s,]+/).filter((s) => s.length > 0))];
}

export function isValidScopeToken(token: string): boolean {
  return SCOPE_TOKEN.test(token);
}

export function formatScope(scopes: readonly string[]): string {
  return scopes.join(' ');
}

export function intersectScopes(a: readonly string[], b: readonly string[]): string[] {
  const set = new Set(b);
  return a.filter((s) => set.has(s));
}

export function isSubset(subset: readonly string[], of: readonly string[]): boolean {
  const set = new Set(of);
  return subset.every((s) => set.has(s));
}
