import { createHash } from 'node:crypto';
import type { Context, Middleware } from 'koa';

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

/** A document served unchanged until its ETag changes (the JWKS, the metadata). */
export interface CachedDocument {
  body: string;
  etag: string;
  /** Content-Type as sent. */
  type: string;
  cacheControl: string;
}

/**
 * A document a route serves from memory (routes.ts `document`): answered before Koa
 * (src/http/documents-before-koa.ts) while `current()` has it, by Koa (documentEndpoint) otherwise.
 */
export interface ServedDocument {
  /** The document as it is now; undefined when it must be read anew. */
  current(): CachedDocument | undefined;
  /** The document read anew. */
  refreshed(): Promise<CachedDocument>;
}

/**
 * Answers a document: Cache-Control, ETag and type on every answer, then 304 when the client's
 * If-None-Match names the tag, else the body.
 */
export function answerWithEtag(ctx: Context, answer: CachedDocument): void {
  ctx.set('Cache-Control', answer.cacheControl);
  ctx.set('ETag', answer.etag);
  ctx.type = answer.type;
  if (matchesIfNoneMatch(ctx.get('If-None-Match'), answer.etag)) {
    ctx.status = 304;
    return;
  }
  ctx.body = answer.body;
}

/** The Koa handler of a document route: the document as it is now, else read anew. */
export function documentEndpoint(document: ServedDocument): Middleware {
  return async (ctx) => {
    answerWithEtag(ctx, document.current() ?? (await document.refreshed()));
  };
}
