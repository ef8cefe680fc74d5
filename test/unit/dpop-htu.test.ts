import { htuMatches, normalizeHttpUri } from '../../src/dpop/htu.js';

describe('htu is compared after RFC 3986 §6.2.2 and §6.2.3 normalisation, without query and fragment', () => {
  it.each([
    ['https://as.example/token', 'https://as.example/token'],
    ['HTTPS://AS.EXAMPLE/token', 'https://as.example/token'],
    ['https://as.example:443/token', 'https://as.example/token'],
    ['http://as.example:80/token', 'http://as.example/token'],
    ['https://as.example:/token', 'https://as.example/token'],
    ['https://as.example', 'https://as.example/'],
    ['https://as.example/a/./b/../token', 'https://as.example/a/token'],
    ['https://as.example/%7Euser/%2e%2E/token', 'https://as.example/token'],
    ['https://as.example/%7euser/t%6Fken', 'https://as.example/~user/token'],
    ['https://as.example/a%2fb', 'https://as.example/a%2Fb'],
    ['https://as.example/token?x=1#frag', 'https://as.example/token'],
    ['https://[::1]:443/token', 'https://[::1]/token'],
    ['http://127.0.0.1:3000/token', 'http://127.0.0.1:3000/token'],
  ])('%s → %s', (input, normal) => {
    expect(normalizeHttpUri(input)).toBe(normal);
  });

  it.each(['/token', 'token', 'ftp://as.example/token', 'https://user:pass@as.example/token', 'https://user@as.example/token', 'urn:example:token', ''])(
    '%s is not an htu',
    (input) => {
      expect(normalizeHttpUri(input)).toBeUndefined();
    },
  );

  it('keeps path case, trailing slashes and non-default ports significant', () => {
    expect(htuMatches('https://as.example/Token', 'https://as.example/token')).toBe(false);
    expect(htuMatches('https://as.example/token/', 'https://as.example/token')).toBe(false);
    expect(htuMatches('https://as.example:8443/token', 'https://as.example/token')).toBe(false);
    expect(htuMatches('http://as.example/token', 'https://as.example/token')).toBe(false);
  });

  it('answers the same whichever expected URL it compared against last', () => {
    for (let round = 0; round < 2; round++) {
      expect(htuMatches('https://as.example/token', 'https://as.example/token')).toBe(true);
      expect(htuMatches('https://AS.example:443/token', 'https://as.example/token')).toBe(true);
      expect(htuMatches('https://as.example/token', 'https://rs.example/orders')).toBe(false);
      expect(htuMatches('https://RS.example/orders?x=1', 'https://rs.example/orders')).toBe(true);
    }
    expect(() => htuMatches('/token', '/token')).toThrow(/expected DPoP htu/);
  });

  it('refuses to compare against an expected URL that is not one (a configuration mistake)', () => {
    expect(() => htuMatches('https://as.example/token', '/token')).toThrow(/expected DPoP htu/);
  });
});
