import { OAuthError } from '../../src/errors.js';
import { grantScopes, requestedScopes } from '../../src/grant-types/scope.js';
import { formatScope, intersectScopes, isSubset, isValidScopeToken, parseScope } from '../../src/lib/scope.js';

function oauthErrorOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    if (error instanceof OAuthError) return error.error;
    throw error;
  }
  return undefined;
}

describe('scope lists on the CLI take commas or spaces', () => {
  it('splits on commas and any whitespace, drops empties and duplicates, keeps order', () => {
    expect(parseScope('read, write  admin,read')).toEqual(['read', 'write', 'admin']);
    expect(parseScope(' read\twrite\n')).toEqual(['read', 'write']);
    expect(parseScope('')).toEqual([]);
    expect(parseScope(undefined)).toEqual([]);
    expect(parseScope(null)).toEqual([]);
  });

  it('formats a list space-delimited', () => {
    expect(formatScope(['read', 'write'])).toBe('read write');
    expect(formatScope([])).toBe('');
  });
});

describe('a scope token is RFC 6749 §3.3 scope-token', () => {
  it.each(['read', 'reports:read', 'api/v1.write', "a!#$%&'()*+,-./:;<=>?@[]^_`{|}~"])('accepts %j', (token) => {
    expect(isValidScopeToken(token)).toBe(true);
  });

  it.each(['', 'two words', 'say"hi"', 'back\\slash', 'tab\there', 'naïve', 'nul\u0000'])('refuses %j', (token) => {
    expect(isValidScopeToken(token)).toBe(false);
  });
});

describe('scope sets intersect and compare', () => {
  it('intersects in the order of the first set', () => {
    expect(intersectScopes(['write', 'read', 'admin'], ['read', 'write'])).toEqual(['write', 'read']);
    expect(intersectScopes(['read'], [])).toEqual([]);
  });

  it('knows a subset', () => {
    expect(isSubset(['read'], ['read', 'write'])).toBe(true);
    expect(isSubset([], ['read'])).toBe(true);
    expect(isSubset(['read', 'admin'], ['read', 'write'])).toBe(false);
  });
});

describe('the scope parameter is space-delimited and well-formed', () => {
  it('reads a missing parameter as no scope', () => {
    expect(requestedScopes(undefined)).toEqual([]);
  });

  it('splits on spaces, ignoring repeated spaces and duplicates', () => {
    expect(requestedScopes('read  write read')).toEqual(['read', 'write']);
  });

  it('refuses a malformed scope with invalid_scope', () => {
    expect(oauthErrorOf(() => requestedScopes('read "write"'))).toBe('invalid_scope');
    expect(oauthErrorOf(() => requestedScopes('read,\twrite'))).toBe('invalid_scope');
  });
});

describe('the granted scope is what was asked for, within the ceiling and every limit', () => {
  it('grants the request when the ceiling allows it, narrowed by the limits', () => {
    expect(grantScopes(['read', 'admin'], ['read', 'write', 'admin'], ['read', 'write'])).toEqual(['read']);
  });

  it('grants the whole ceiling, narrowed by the limits, when nothing is asked for', () => {
    expect(grantScopes([], ['read', 'write', 'admin'], ['read', 'write'], ['write'])).toEqual(['write']);
  });

  it('refuses a request beyond the ceiling with invalid_scope', () => {
    expect(oauthErrorOf(() => grantScopes(['read', 'delete'], ['read', 'write']))).toBe('invalid_scope');
  });

  it('refuses with invalid_scope when nothing is left', () => {
    expect(oauthErrorOf(() => grantScopes(['admin'], ['read', 'admin'], ['read']))).toBe('invalid_scope');
    expect(oauthErrorOf(() => grantScopes([], ['admin'], ['read']))).toBe('invalid_scope');
  });
});
