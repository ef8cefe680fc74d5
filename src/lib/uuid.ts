const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids that reach a uuid column are checked first, so a malformed one is "not found", not a SQL error. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/**
 * True when a UUID parser would read `value` as one, written any way PostgreSQL's uuid type or a
 * library's UUID class takes: either case, hyphens anywhere between groups of four or none,
 * braces, a `urn:uuid:` prefix. A resource server that parses `sub` so would take it for that id.
 */
export function readsAsUuid(value: string): boolean {
  const bare = value.replace(/^urn:uuid:/i, '').replace(/^\{(.*)\}$/s, '$1');
  return /^[0-9a-f]{4}(-?[0-9a-f]{4}){7}$/i.test(bare);
}

/** A UUID as Gatehouse writes it (lower case, RFC 9562 §4), however the caller wrote it; anything else as it is. */
export function canonicalUuid(value: string): string {
  return isUuid(value) ? value.toLowerCase() : value;
}
