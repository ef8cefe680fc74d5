import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Metrics } from '../services/metrics.js';
import { matchesIfNoneMatch, type CachedDocument, type ServedDocument } from './etag.js';
import { recordRequest, requestIdOf } from './request-log.js';
import { API_SECURITY_HEADERS } from './security-headers.js';

export interface DocumentsBeforeKoaOptions {
  /** By exact path; a document whose `current()` is undefined (to be read anew) goes to Koa. */
  documents: ReadonlyMap<string, Pick<ServedDocument, 'current'>>;
  logger: Logger;
  metrics: Metrics;
  /** TRUST_PROXY: the client IP of the log line is the last X-Forwarded-For entry, as Koa's ctx.ip with maxIpsCount 1. */
  trustProxy: boolean;
  /** CORS_ORIGINS is set: answers carry `Vary: Origin`, and a request with an Origin goes to Koa (@koa/cors). */
  cors: boolean;
  /** The server drains: answers carry `Connection: close`, which Koa's path sets. */
  draining: () => boolean;
}

/** The API security headers, flat, as writeHead takes them. */
const SECURITY_HEADERS = API_SECURITY_HEADERS.flatMap(([name, value]) => [name, String(value)]);

/**
 * A GET or HEAD of a document served from memory, answered in the Node request listener, before
 * Koa builds a context and runs its middleware: the same answer Koa gives (status, headers, body;
 * test/integration/documents-before-koa.test.ts compares them), logged and counted the same way,
 * in about half the CPU. A JWKS answer took 55–63 µs of CPU through Koa, 34 here, against 40–55
 * for a bare Koa app answering a small JSON body (docs/performance.md). Anything else (another
 * path or method, a CORS request, a draining server, a document to read anew) returns false and
 * goes to Koa.
 */
export function documentsBeforeKoa(options: DocumentsBeforeKoaOptions): (request: IncomingMessage, response: ServerResponse) => boolean {
  const { documents, logger, metrics, trustProxy, cors, draining } = options;
  const vary = cors ? ['Vary', 'Origin'] : [];
  return (request, response) => {
    const method = request.method;
    if (method !== 'GET' && method !== 'HEAD') return false;
    const url = request.url ?? '';
    const queryAt = url.indexOf('?');
    const path = queryAt === -1 ? url : url.slice(0, queryAt);
    const served = documents.get(path);
    if (!served || (cors && request.headers.origin !== undefined) || draining()) return false;

    const started = process.hrtime.bigint();
    let document: CachedDocument | undefined;
    try {
      document = served.current();
    } catch {
      // Koa's path answers the failure, in the JSON error shape and logged.
      return false;
    }
    if (!document) return false;
    const requestId = requestIdOf(headerText(request.headers['x-request-id']));
    const notModified = matchesIfNoneMatch(headerText(request.headers['if-none-match']) ?? '', document.etag);
    const headers = ['X-Request-Id', requestId, ...SECURITY_HEADERS, ...vary, 'Cache-Control', document.cacheControl, 'ETag', document.etag];
    // RFC 9110 §15.4.5: a 304 carries no content headers (Koa strips them too).
    if (!notModified) headers.push('Content-Type', document.type, 'Content-Length', String(Buffer.byteLength(document.body)));
    const status = notModified ? 304 : 200;
    response.writeHead(status, headers);
    response.end(notModified || method === 'HEAD' ? undefined : document.body);
    recordRequest(logger, metrics, { requestId, method, route: path, path, status, started, ip: () => clientIp(request, trustProxy) });
    return true;
  };
}

/** A header's value as Koa's ctx.get reads it: repeated fields joined by Node, absent as undefined. */
function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Koa's ctx.ip with maxIpsCount 1: the last X-Forwarded-For entry when the proxy is trusted, else the TCP peer. */
function clientIp(request: IncomingMessage, trustProxy: boolean): string {
  const forwarded = trustProxy ? headerText(request.headers['x-forwarded-for']) : undefined;
  const last = forwarded ? (forwarded.split(',').pop() ?? '').trim() : '';
  return last || request.socket.remoteAddress || '';
}
