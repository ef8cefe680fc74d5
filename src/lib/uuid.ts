const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids that reach a uuid column are checked first, so a malformed one is "not found", not a SQL error. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
