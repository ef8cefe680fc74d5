/** RFC 3986 §2.3: characters that never need percent-encoding, so their encoded form means the same. */
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/**
 * The form of an http(s) URL that `htu` is compared in (RFC 9449 §4.3 step 9): without query and
 * fragment, after syntax-based (RFC 3986 §6.2.2) and scheme-based (§6.2.3) normalisation:
 * - scheme and host in lower case, the default port (80 for http, 443 for https) and an empty port
 *   left out, an empty path written `/`, `.` and `..` segments resolved (the WHATWG URL parser,
 *   which also writes IPv4 and IPv6 addresses and international names in one form);
 * - percent-encoded unreserved characters decoded (`%7E` → `~`), other escapes in upper case.
 * Path case and trailing slashes are significant. Undefined when the text is not an absolute http or
 * https URL, or when it carries user information (a target URI never does, RFC 9110 §4.2.4).
 */
export function normalizeHttpUri(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.username !== '' || url.password !== '' || url.host === '') return undefined;
  url.search = '';
  url.hash = '';
  url.pathname = url.pathname.replace(/%[0-9A-Fa-f]{2}/g, (escape) => {
    const character = String.fromCharCode(parseInt(escape.slice(1), 16));
    return UNRESERVED.test(character) ? character : escape.toUpperCase();
  });
  // Setting the path again lets the parser resolve dot segments that the decoding made (%2E).
  return new URL(url.href).href;
}

/** The last expected URL and its normal form: a token endpoint checks every proof against one URL. */
let lastExpected: { url: string; normal: string } | undefined;

/** Whether the `htu` claim names the URL the request went to (query and fragment ignored on both). */
export function htuMatches(htu: string, requestUrl: string): boolean {
  let expected = lastExpected?.url === requestUrl ? lastExpected.normal : undefined;
  if (expected === undefined) {
    expected = normalizeHttpUri(requestUrl);
    if (expected === undefined) throw new Error('the expected DPoP htu is not an absolute http(s) URL');
    lastExpected = { url: requestUrl, normal: expected };
  }
  // The same text has the same normal form: most clients send the URL exactly as configured.
  return htu === requestUrl || normalizeHttpUri(htu) === expected;
}
