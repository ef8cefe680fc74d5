import { createHash } from 'node:crypto';

/** RFC 9110 §13.1.2: `*`, or any listed tag equal under weak comparison (W/ ignored). */
export function matchesIfNoneMatch(header: string, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((tag) => {
    const trimmed = tag.trim();
    return trimmed === '*' || trimmed.replace(/^W\//, '') === etag;
  });
}

/** A strong ETag for a body served as it is. */
export function etagOf(body: string): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
}
