import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Middleware } from 'koa';
import { NotFound } from '../errors.js';
import { pathParameter } from '../http/path-parameters.js';
import { setPageHeaders } from '../http/security-headers.js';
import { AUDIT_ACTIONS } from '../services/audit.js';

/*
 * GET /console: the admin console, a page for people. Plain HTML, CSS and JavaScript modules from
 * src/console/assets/, served by Gatehouse itself (no CDN, no bundler). Every URL in them is
 * relative to the page, so it works at whatever host name, and under whatever path prefix, the
 * server is reached by. The page is a client of Gatehouse like any other: it signs in with the
 * password grant and calls the admin API (see docs/console.md).
 */

/** Nothing inline, nothing from elsewhere: scripts, styles and requests come from this origin only. */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** The console's files, and their media types: only these are served. */
export const CONSOLE_ASSETS: Readonly<Record<string, string>> = Object.freeze({
  'index.html': 'text/html; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
  'main.js': 'text/javascript; charset=utf-8',
  'session.js': 'text/javascript; charset=utf-8',
  'dom.js': 'text/javascript; charset=utf-8',
  'users.js': 'text/javascript; charset=utf-8',
  'user.js': 'text/javascript; charset=utf-8',
  'clients.js': 'text/javascript; charset=utf-8',
  'resources.js': 'text/javascript; charset=utf-8',
  'keys.js': 'text/javascript; charset=utf-8',
  'audit.js': 'text/javascript; charset=utf-8',
  'audit-actions.js': 'text/javascript; charset=utf-8',
});

/**
 * Modules the server writes from its own constants rather than reads from a file, so that the
 * console and the API name things from one list.
 */
const GENERATED_ASSETS: Readonly<Record<string, () => string>> = Object.freeze({
  'audit-actions.js': () =>
    `// Written by the server from AUDIT_ACTIONS (src/services/audit.ts).\nexport const AUDIT_ACTIONS = ${JSON.stringify(AUDIT_ACTIONS)};\n`,
});

/**
 * The assets sit next to this module: in src/ under jest and tsx, and in dist/src/console/ where the
 * build (scripts/build.js) copies them, since tsc copies no .js, .css or .html files. A dist/ built
 * by tsc alone still finds them in the source tree.
 */
function assetDirectory(): string {
  const candidates = [new URL('./assets/', import.meta.url), new URL('../../../src/console/assets/', import.meta.url)].map((url) => fileURLToPath(url));
  const found = candidates.find((directory) => existsSync(`${directory}index.html`));
  if (!found) throw new Error(`the admin console's files are missing (looked in ${candidates.join(', ')}); set CONSOLE_ENABLED=false to run without it`);
  return found;
}

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/** Reads (or writes) every asset once, when the app is built; answers come from memory. */
function loadAssets(): Map<string, Asset> {
  const directory = assetDirectory();
  const assets = new Map<string, Asset>();
  for (const [name, type] of Object.entries(CONSOLE_ASSETS)) {
    const generate = GENERATED_ASSETS[name];
    const body = generate ? Buffer.from(generate()) : readFileSync(`${directory}${name}`);
    assets.set(name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` });
  }
  return assets;
}

/** The page and its files are revalidated on every use (ETag), so an upgrade never mixes versions. */
function serve(asset: Asset): Middleware {
  return async (ctx) => {
    setPageHeaders(ctx, CONSOLE_CSP);
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('ETag', asset.etag);
    ctx.type = asset.type;
    if (ctx.get('If-None-Match') === asset.etag) {
      ctx.status = 304;
      return;
    }
    ctx.body = asset.body;
  };
}

/** GET /console and GET /console/:asset (a fixed list; anything else is 404). */
export function consoleEndpoints(): { page: Middleware; asset: Middleware } {
  const assets = loadAssets();
  const page = serve(assets.get('index.html') as Asset);
  const files = new Map([...assets].filter(([name]) => name !== 'index.html').map(([name, asset]) => [name, serve(asset)]));
  return {
    page: async (ctx, next) => {
      // From /console/ the page's relative URLs would miss; send the browser to /console.
      if (ctx.path.endsWith('/')) {
        ctx.redirect('../console');
        return;
      }
      await page(ctx, next);
    },
    asset: async (ctx, next) => {
      const name = pathParameter(ctx, 'asset');
      const file = files.get(name);
      if (!file) throw new NotFound(`no file "${name.slice(0, 64)}"`);
      await file(ctx, next);
    },
  };
}
