import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Middleware } from 'koa';
import { NotFound } from '../errors.js';
import { pathParameter } from '../http/path-parameters.js';
import { setPageHeaders } from '../http/security-headers.js';
import type { Route } from '../routes.js';
import { buildOpenApiDocument } from './document.js';

/** GET /openapi.json: the document is built once, when the app is created. */
/** GET /openapi.json for `routes`: those this server serves. */
export function openApiEndpoint(routes: readonly Route[]): Middleware {
  const body = JSON.stringify(buildOpenApiDocument({ routes }));
  return async (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.type = 'application/json';
    ctx.body = body;
  };
}

/*
 * GET /docs: Swagger UI (swagger-ui-dist), served from node_modules — no CDN. Paths are relative,
 * so the page also works when Gatehouse sits under a path prefix. The start-up script is a file
 * of its own, so a Content-Security-Policy without 'unsafe-inline' scripts allows the page.
 */
const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Gatehouse API reference</title>
  <link rel="stylesheet" href="docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="docs/favicon-32x32.png">
</head>
<body>
  <div id="api-reference"></div>
  <script src="docs/swagger-ui-bundle.js"></script>
  <script src="docs/start.js"></script>
</body>
</html>
`;

const START_SCRIPT = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({ url: new URL('openapi.json', document.baseURI).href, dom_id: '#api-reference', deepLinking: true, validatorUrl: null });
});
`;

/**
 * The page loads nothing from elsewhere (validatorUrl: null turns off Swagger UI's remote badge).
 * No upgrade-insecure-requests here: some browsers would then ask for the assets over https even
 * on a plain-http local server, and the page would stay blank.
 */
const PAGE_CSP = [
  "default-src 'self'",
  "base-uri 'self'",
  "connect-src 'self'",
  "font-src 'self' data:",
  "form-action 'self'",
  "frame-ancestors 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
].join('; ');

/** The files of swagger-ui-dist the page uses, and their media types. */
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

let assetDirectory: string | undefined;
const assetCache = new Map<string, Promise<Buffer>>();

function readAsset(name: string): Promise<Buffer> {
  assetDirectory ??= dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  let cached = assetCache.get(name);
  if (!cached) {
    cached = readFile(join(assetDirectory, name));
    cached.catch(() => assetCache.delete(name));
    assetCache.set(name, cached);
  }
  return cached;
}

export const apiReferencePage: Middleware = async (ctx) => {
  // From /docs/ the relative asset paths would miss; send the browser to /docs.
  if (ctx.path.endsWith('/')) return ctx.redirect('../docs');
  ctx.set('Cache-Control', 'public, max-age=300');
  setPageHeaders(ctx, PAGE_CSP);
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = PAGE;
};

/** GET /docs/:asset — a fixed list of files; anything else is 404. */
export const apiReferenceAsset: Middleware = async (ctx) => {
  const name = pathParameter(ctx, 'asset');
  setPageHeaders(ctx, PAGE_CSP);
  if (name === 'start.js') {
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.type = 'text/javascript; charset=utf-8';
    ctx.body = START_SCRIPT;
    return;
  }
  const type = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
  if (!type) throw new NotFound(`no file "${name.slice(0, 64)}"`);
  ctx.body = await readAsset(name);
  ctx.type = type;
  ctx.set('Cache-Control', 'public, max-age=86400');
};
