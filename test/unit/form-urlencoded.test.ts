import fc from 'fast-check';
import { formPairs } from '../../src/lib/form-urlencoded.js';

const urlSearchParams = (raw: string): [string, string][] => [...new URLSearchParams(raw)];

describe('formPairs decodes a form body exactly as URLSearchParams does', () => {
  it('for bodies of the characters that matter (& = % + and escapes) and any other text', () => {
    const piece = fc.oneof(
      fc.constantFrom('&', '=', '%', '+', '%20', '%2', '%zz', '%E2%82%AC', '%FF', '&&', '==', '%2B', '%3D', '%26'),
      // UTF-8 escapes: two and four bytes, a BOM, an overlong form, an encoded surrogate, a cut sequence.
      fc.constantFrom('%C3%A9', '%F0%9F%98%80', '%EF%BB%BF', '%C0%80', '%ED%A0%80', '%E2%82'),
      // Lone surrogates (URLSearchParams makes each U+FFFD) and a pair.
      fc.constantFrom('\uD800', '\uDC00', '\uD83D\uDE00'),
      fc.string({ unit: 'grapheme' }),
      fc.string({ unit: 'binary' }),
      fc.stringMatching(/^[A-Za-z0-9._~-]{0,40}$/),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        const raw = pieces.join('');
        expect([...formPairs(raw)]).toEqual(urlSearchParams(raw));
      }),
      { numRuns: 5000 },
    );
  });

  it('for what OAuth clients send: tokens, assertions and their type', () => {
    const jwt = `eyJhbGciOiJSUzI1NiJ9.${'eyJzdWIiOiJhIn0'.repeat(40)}.${'a-b_c'.repeat(60)}`;
    const assertionType = encodeURIComponent('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    for (const raw of [
      `token=${jwt}&token_type_hint=access_token`,
      `grant_type=client_credentials&client_assertion_type=${assertionType}&client_assertion=${jwt}`,
      'grant_type=client_credentials&scope=read+write%20admin',
      'grant_type=client_credentials',
      '=x&y=&z&&w==',
      '',
      '&',
    ]) {
      expect([...formPairs(raw)]).toEqual(urlSearchParams(raw));
    }
  });
});
