const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids that reach a uuid column are checked first, so a malformed one is "not found", not a SQL error. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** A UUID as Gatehouse writes it (lower case, RFC 9562 §4), however the caller wrote it; anything else as it is. */
export function canonicalUuid(value: string): string {
  return isUuid(value) ? value.toLowerCase() : value;
}
