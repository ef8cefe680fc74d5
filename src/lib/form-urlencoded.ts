/** A surrogate: a lone one becomes U+FFFD in URLSearchParams, which decodeURIComponent does not do. */
const SURROGATE = /[\uD800-\uDFFF]/;
const ESCAPED = /[%+]/;

/**
 * A name or value decoded as URLSearchParams decodes it: `+` is a space, `%XX` a byte, the bytes
 * UTF-8. decodeURIComponent gives the same text for every well-formed escape sequence and throws
 * for any other (a stray `%`, an invalid or overlong UTF-8 sequence, an encoded surrogate), where
 * URLSearchParams keeps the `%` or writes U+FFFD: undefined then, and the caller asks URLSearchParams.
 */
function decodePart(part: string): string | undefined {
  if (!ESCAPED.test(part)) return part;
  try {
    return decodeURIComponent(part.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/**
 * The name-value pairs of an application/x-www-form-urlencoded string, exactly as URLSearchParams
 * gives them (the WHATWG URL Standard's parser), which walks the string a character at a time in
 * JavaScript: 8 µs for a 1 KB JWT. Here the string is split on `&` and the first `=` of each pair,
 * and only a part with `%` or `+` is decoded (natively): 0.5 µs for that JWT. What OAuth clients
 * send for tokens, assertions and ids has nothing to decode; `client_assertion_type` is the usual
 * escaped part. A string with a surrogate, or a part decodeURIComponent refuses, goes to
 * URLSearchParams whole.
 */
export function formPairs(raw: string): Iterable<[name: string, value: string]> {
  if (SURROGATE.test(raw)) return new URLSearchParams(raw);
  const pairs: [string, string][] = [];
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    const name = decodePart(equals === -1 ? pair : pair.slice(0, equals));
    const value = equals === -1 ? '' : decodePart(pair.slice(equals + 1));
    if (name === undefined || value === undefined) return new URLSearchParams(raw);
    pairs.push([name, value]);
  }
  return pairs;
}
