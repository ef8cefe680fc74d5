import { GRANT_TYPE_HANDLERS } from '../grant-types/index.js';
import { packageVersion } from '../lib/version.js';
import type { Route } from '../routes.js';
import {
  CLIENT_AUTH_TEXT,
  CLIENT_ENDPOINT_ERRORS,
  CLIENT_SECURITY,
  RESPONSE_SCHEMAS,
  adminErrors,
  grantComponentName,
  withClientAuth,
  type Operation,
  type Schema,
} from './schemas.js';

/**
 * The OpenAPI 3.1 description of every route in the route table (src/routes.ts). Request schemas
 * are the very objects the endpoints validate with (grant `parameters`, the admin request schemas,
 * the introspection and revocation form schemas), so the document cannot drift from the code;
 * responses are described in the table and checked against real answers by
 * test/integration/openapi.test.ts.
 */

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: Record<string, unknown>;
  servers: { url: string; description?: string }[];
  paths: Record<string, Record<string, unknown>>;
  components: Record<string, unknown>;
  [key: string]: unknown;
}

/** What a route's access adds to its operation: security, and the answers that access can give. */
function describeAccess(route: Route): Operation {
  const operation = route.operation;
  const responses = operation.responses as Record<string, Schema>;
  switch (route.access.kind) {
    case 'anyone':
      return operation;
    case 'client':
      return {
        ...operation,
        description: `${(operation.description as string | undefined) ?? ''} ${CLIENT_AUTH_TEXT}`.trim(),
        security: CLIENT_SECURITY,
        // The endpoint's own answers first: /token describes its 413 and 429 in its own words.
        responses: { ...CLIENT_ENDPOINT_ERRORS, ...responses },
      };
    case 'admin': {
      const { scope } = route.access;
      const description = operation.description as string | undefined;
      return {
        ...operation,
        description: `${description ? `${description}\n\n` : ''}Requires a bearer access token for this API carrying the scope \`${scope}\`.`,
        security: [{ adminBearer: [scope] }],
        responses: { ...responses, ...adminErrors() },
      };
    }
  }
}

export function buildOpenApiDocument(options: { routes: readonly Route[]; version?: string }): OpenApiDocument {
  const grantSchemas: Record<string, Schema> = {};
  for (const handler of GRANT_TYPE_HANDLERS.values()) {
    grantSchemas[grantComponentName(handler.grantType)] = withClientAuth(handler.parameters, {
      title: `grant_type=${handler.grantType}`,
      required: ['grant_type', ...handler.parameters.required],
      properties: { grant_type: { type: 'string', const: handler.grantType } },
    });
  }
  const paths: OpenApiDocument['paths'] = {};
  for (const route of options.routes) {
    const item = (paths[route.path] ??= {});
    if (item[route.method]) throw new Error(`the route table has ${route.method.toUpperCase()} ${route.path} twice`);
    item[route.method] = describeAccess(route);
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'Gatehouse',
      version: options.version ?? packageVersion(),
      description:
        'OAuth 2 authorization server: password, refresh_token and client_credentials grants, RFC 9068 JWT access tokens signed with rotating RS256 keys, introspection (RFC 7662), revocation (RFC 7009) and an admin API.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    // Relative to where the document is served (OpenAPI 3.1 §4.8.5): "Try it out" on /docs calls
    // the host the page was loaded from, whatever ISSUER says, also behind a proxy's path prefix.
    servers: [{ url: './', description: 'this server (the directory this document is served from)' }],
    tags: [
      { name: 'Discovery' },
      { name: 'OAuth 2' },
      { name: 'Admin: tokens' },
      { name: 'Admin: keys' },
      { name: 'Admin: clients' },
      { name: 'Admin: users' },
      { name: 'Operations' },
    ],
    paths,
    components: {
      schemas: { ...grantSchemas, ...RESPONSE_SCHEMAS },
      securitySchemes: {
        clientBasic: {
          type: 'http',
          scheme: 'basic',
          description:
            'client_secret_basic: client id and secret, each form-urlencoded (RFC 6749 §2.3.1). client_secret_post and none use body parameters instead.',
        },
        adminBearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'A Gatehouse access token carrying the admin scope the operation names (admin:tokens, admin:keys, admin:clients, admin:users).',
        },
        metricsBearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'The METRICS_TOKEN of the server configuration, when it sets one.',
        },
      },
    },
  };
}
