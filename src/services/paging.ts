/** Rows the CLI lists whole are read this many at a time. */
export const COLLECT_PAGE_SIZE = 500;

/**
 * Reads every page of a keyset-paginated list: `fetchPage(cursor, limit)` with the cursor of the
 * last row of the previous page (undefined for the first).
 */
export async function collectAllPages<T, C>(fetchPage: (cursor: C | undefined, limit: number) => Promise<T[]>, cursorOf: (last: T) => C): Promise<T[]> {
  const rows: T[] = [];
  for (let cursor: C | undefined; ;) {
    const page = await fetchPage(cursor, COLLECT_PAGE_SIZE);
    rows.push(...page);
    const last = page[page.length - 1];
    if (page.length < COLLECT_PAGE_SIZE || last === undefined) return rows;
    cursor = cursorOf(last);
  }
}
