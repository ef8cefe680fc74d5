import type { Middleware } from 'koa';
import type { Config } from './config.js';
import { consoleEndpoints } from './console/endpoints.js';
import type { Deps } from './deps.js';
import { listAudit } from './endpoints/admin/audit.js';
import {
  createClientRequestSchema,
  getClient,
  listClients,
  registerClient,
  removeClient,
  updateClient,
  updateClientRequestSchema,
} from './endpoints/admin/clients.js';
import {
  createResourceRequestSchema,
  getResource,
  listResources,
  registerResource,
  removeResource,
  updateResource,
  updateResourceRequestSchema,
} from './endpoints/admin/resources.js';
import { listKeys, rotateKeysNow, rotateKeysRequestSchema } from './endpoints/admin/keys.js';
import { createRevocation, listGrants, revocationRequestSchema } from './endpoints/admin/revocations.js';
import { createUserRequestSchema, getUser, listUsers, registerUser, removeUser, updateUser, updateUserRequestSchema } from './endpoints/admin/users.js';
import { livenessEndpoint, readinessEndpoint } from './endpoints/health.js';
import { introspectEndpoint, introspectionRequestSchema } from './endpoints/introspect.js';
import { jwksDocument } from './endpoints/jwks.js';
import { metadataDocument } from './endpoints/metadata.js';
import { metricsEndpoint } from './endpoints/metrics.js';
import { revokeEndpoint, tokenRevocationRequestSchema } from './endpoints/revoke.js';
import { statusListAggregationEndpoint, statusListEndpoint } from './endpoints/status-list.js';
import { tokenEndpoint } from './endpoints/token.js';
import { GRANT_TYPE_HANDLERS } from './grant-types/index.js';
import { dpopNonceHeader } from './http/dpop-nonce.js';
import type { ServedDocument } from './http/etag.js';
import { tokenRateLimit } from './http/rate-limit.js';
import { apiReferenceAsset, apiReferencePage, openApiEndpoint } from './openapi/endpoints.js';
import {
  BEARER_CHALLENGE,
  ERROR,
  ID_PARAMETER,
  NO_STORE,
  NOT_FOUND,
  PAGE_PARAMETERS,
  RESOURCE_URI_PARAMETER,
  RETRY_AFTER,
  errorCodes,
  form,
  grantComponentName,
  json,
  jsonRequest,
  listOf,
  queryParameter,
  ref,
  withClientAuth,
  type Operation,
} from './openapi/schemas.js';

/** The admin scopes; each guards one part of the admin API. */
export type AdminScope = 'admin:tokens' | 'admin:keys' | 'admin:clients' | 'admin:users';

/** Who may call a route, which decides the middleware in front of its handler and its documented security. */
export type Access =
  /** Anyone: discovery and operations. */
  | { kind: 'anyone' }
  /**
   * A form body and client authentication (RFC 6749 §2.3); `allowPublic` admits public clients.
   * `deferredReplayCheck`: the handler awaits ctx.state.clientAssertionClaimed before it stores
   * anything, so a client assertion's replay claim may overlap the handler's own work.
   */
  | { kind: 'client'; allowPublic: boolean; deferredReplayCheck?: boolean }
  /** A JSON body and a bearer access token for this API carrying `scope`. */
  | { kind: 'admin'; scope: AdminScope };

export type Route = RouteBase &
  (
    | { handler: (deps: Deps) => Middleware; document?: undefined }
    /**
     * A GET open to anyone that serves a document from memory: the server answers it before Koa
     * (src/http/documents-before-koa.ts) while the document is current, and through Koa
     * (documentEndpoint) where Koa must (a stale document, CORS, draining, a path under ISSUER's path).
     */
    | { document: (deps: Deps) => ServedDocument; handler?: undefined }
  );

interface RouteBase {
  method: 'get' | 'post' | 'patch' | 'delete';
  /** An OpenAPI path template: `{id}` is a path parameter. */
  path: string;
  access: Access;
  /** Runs before the body is read or the caller authenticated (a rate limit). */
  guard?: (deps: Deps) => Middleware;
  /** Served (and documented) only when this holds for the configuration; always when absent. */
  when?: (config: Config) => boolean;
  /**
   * The OpenAPI operation, without what `access` implies (security, the 401/403 answers, the
   * client-authentication parameters): src/openapi/document.ts adds those.
   */
  operation: Operation;
}

/** The routes a server with this configuration serves and documents. */
export function servedRoutes(routes: readonly Route[], config: Config): Route[] {
  return routes.filter((route) => route.when?.(config) ?? true);
}

const TOKEN_ERRORS = [
  'invalid_request',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_target',
  'invalid_dpop_proof',
  'use_dpop_nonce',
];

/** RFC 9449 §8: the server nonce, on every /token answer when DPOP_NONCE is on. */
const DPOP_NONCE_HEADER = { 'DPoP-Nonce': { schema: { type: 'string' }, description: 'With DPOP_NONCE=true: the server nonce for the next DPoP proof.' } };

/**
 * Every route of the server, top to bottom. src/app.ts mounts exactly these and
 * src/openapi/document.ts describes exactly these, so a route cannot be served undocumented.
 */
export const ROUTES: readonly Route[] = [
  // Discovery
  {
    method: 'get',
    path: '/.well-known/oauth-authorization-server',
    access: { kind: 'anyone' },
    document: metadataDocument,
    operation: {
      tags: ['Discovery'],
      operationId: 'getAuthorizationServerMetadata',
      summary: 'Authorization server metadata (RFC 8414)',
      description: 'Cached for 60 s (`Cache-Control: max-age`), with an `ETag`; answers 304 to a matching `If-None-Match`.',
      responses: {
        '200': {
          ...json(ref('AuthorizationServerMetadata'), 'The metadata; issuer is the exact URL of this server'),
          headers: { ETag: { schema: { type: 'string' } }, 'Cache-Control': { schema: { type: 'string' } } },
        },
        '304': { description: 'Not modified (If-None-Match matched the ETag)' },
      },
    },
  },
  {
    method: 'get',
    path: '/.well-known/jwks.json',
    access: { kind: 'anyone' },
    document: jwksDocument,
    operation: {
      tags: ['Discovery'],
      operationId: 'getJwks',
      summary: 'Public signing keys (RFC 7517)',
      description: 'Cached with `Cache-Control: max-age` (at most half of KEY_PUBLISH_AHEAD) and an `ETag`; answers 304 to a matching `If-None-Match`.',
      responses: {
        '200': {
          description: 'The key set',
          headers: { ETag: { schema: { type: 'string' } }, 'Cache-Control': { schema: { type: 'string' } } },
          content: { 'application/jwk-set+json': { schema: ref('JsonWebKeySet') } },
        },
        '304': { description: 'Not modified (If-None-Match matched the ETag)' },
      },
    },
  },

  // Token Status List (draft-ietf-oauth-status-list)
  {
    method: 'get',
    path: '/statuslists',
    access: { kind: 'anyone' },
    handler: statusListAggregationEndpoint,
    operation: {
      tags: ['Discovery'],
      operationId: 'listStatusLists',
      summary: 'Status list aggregation: the URIs of the live status lists',
      description: 'The status_list_aggregation_endpoint of the metadata. A list stays live until every token that names it has expired.',
      responses: { '200': json(ref('StatusListAggregation'), 'The live lists, oldest first') },
    },
  },
  {
    method: 'get',
    path: '/statuslists/{id}',
    access: { kind: 'anyone' },
    handler: statusListEndpoint,
    operation: {
      tags: ['Discovery'],
      operationId: 'getStatusList',
      summary: 'A status list token (draft-ietf-oauth-status-list)',
      description:
        'A JWT (`typ: statuslist+jwt`) signed by a key of the JWKS: `sub` is this URI, `ttl` is STATUS_LIST_TTL, and bit `idx` of `status_list.lst` (ZLIB, base64url, 1 bit per token) is 1 once the access token naming it was revoked. Includes every committed revocation; the same signed token (and `ETag`) is served while the list does not change; 304 to a matching `If-None-Match`.',
      parameters: [
        {
          name: 'id',
          in: 'path',
          required: true,
          description: "The list id (the last segment of a token's `status.status_list.uri`)",
          schema: { type: 'string' },
        },
      ],
      responses: {
        '200': {
          description: 'The status list token',
          headers: { ETag: { schema: { type: 'string' } }, 'Cache-Control': { schema: { type: 'string' } } },
          content: { 'application/statuslist+jwt': { schema: { type: 'string' } } },
        },
        '304': { description: 'Not modified (If-None-Match matched the ETag)' },
        ...NOT_FOUND,
      },
    },
  },

  // OAuth 2
  {
    method: 'post',
    path: '/token',
    access: { kind: 'client', allowPublic: true, deferredReplayCheck: true },
    guard: (deps) => {
      const nonce = dpopNonceHeader(deps);
      const limit = tokenRateLimit(deps.throttle);
      const guard: Middleware = async (ctx, next) => {
        await nonce(ctx, async () => {
          await limit(ctx, next);
        });
      };
      return guard;
    },
    handler: tokenEndpoint,
    operation: {
      tags: ['OAuth 2'],
      operationId: 'token',
      summary: 'Token endpoint (RFC 6749 §3.2)',
      description: `Grant types: ${[...GRANT_TYPE_HANDLERS.keys()].join(', ')}. A client may use only the grant types and scopes it was registered with. With a DPoP proof (RFC 9449) the access token is bound to the proof's key (token_type DPoP, cnf.jkt), and so are a public client's refresh tokens.`,
      parameters: [
        {
          name: 'DPoP',
          in: 'header',
          required: false,
          description:
            'A DPoP proof JWT (RFC 9449 §4): typ dpop+jwt, htm POST, htu this endpoint, a fresh iat and jti, and with DPOP_NONCE=true the server nonce. Required for clients registered dpop_bound_access_tokens.',
          schema: { type: 'string' },
        },
      ],
      requestBody: form({ oneOf: [...GRANT_TYPE_HANDLERS.keys()].map((grantType) => ref(grantComponentName(grantType))) }),
      responses: {
        '200': { ...json(ref('TokenResponse'), 'Tokens issued'), headers: { ...NO_STORE, ...DPOP_NONCE_HEADER } },
        '400': {
          ...json(errorCodes(TOKEN_ERRORS), 'The request was refused (RFC 6749 §5.2; invalid_dpop_proof and use_dpop_nonce: RFC 9449)'),
          headers: DPOP_NONCE_HEADER,
        },
        '429': { ...json(ERROR, 'Too many requests from this IP address (RATE_LIMIT_PER_IP), or failed client authentications'), headers: RETRY_AFTER },
      },
    },
  },
  {
    method: 'post',
    path: '/introspect',
    access: { kind: 'client', allowPublic: false },
    handler: introspectEndpoint,
    operation: {
      tags: ['OAuth 2'],
      operationId: 'introspect',
      summary: 'Token introspection (RFC 7662)',
      description:
        'Tells whether a token is active now; revocation shows here at once. The caller must be a confidential client (public clients get invalid_client).',
      requestBody: form(withClientAuth(introspectionRequestSchema)),
      responses: {
        '200': {
          description: 'What the token says, or {"active": false}; with Accept: application/token-introspection+jwt, the same signed as a JWT (RFC 9701)',
          headers: NO_STORE,
          content: {
            'application/json': { schema: ref('IntrospectionResponse') },
            'application/token-introspection+jwt': {
              schema: {
                type: 'string',
                description:
                  'A JWT (typ token-introspection+jwt, RS256, a key of the JWKS) with iss, aud (the calling client), iat and token_introspection (the RFC 7662 object).',
              },
            },
          },
        },
        '400': json(errorCodes(['invalid_request']), 'Malformed request'),
      },
    },
  },
  {
    method: 'post',
    path: '/revoke',
    access: { kind: 'client', allowPublic: true },
    handler: revokeEndpoint,
    operation: {
      tags: ['OAuth 2'],
      operationId: 'revoke',
      summary: 'Token revocation (RFC 7009)',
      description:
        'Revoking a refresh token ends its whole grant; revoking an access token denies its jti at /introspect. Answers 200 whether or not the token was known (RFC 7009 §2.2).',
      requestBody: form(withClientAuth(tokenRevocationRequestSchema)),
      responses: {
        '200': { description: 'Revoked, or unknown (empty body)' },
        '400': json(errorCodes(['invalid_request']), 'Malformed request'),
      },
    },
  },

  // Admin API: tokens
  {
    method: 'post',
    path: '/admin/revocations',
    access: { kind: 'admin', scope: 'admin:tokens' },
    handler: createRevocation,
    operation: {
      tags: ['Admin: tokens'],
      operationId: 'createRevocation',
      summary: 'Revoke grants by user, client or grant, or one access token',
      description:
        'Give exactly one of username, user_id, client_id, grant_id, jti. By client, every access token issued to the client until now ends too, client_credentials tokens included.',
      requestBody: jsonRequest(revocationRequestSchema),
      responses: { '200': json(ref('RevocationResult'), 'How much was revoked') },
    },
  },
  {
    method: 'get',
    path: '/admin/grants',
    access: { kind: 'admin', scope: 'admin:tokens' },
    handler: listGrants,
    operation: {
      tags: ['Admin: tokens'],
      operationId: 'listGrants',
      summary: 'Active grants (sessions), newest first',
      parameters: [
        queryParameter('username', "Only this user's grants."),
        queryParameter('user_id', 'Only the grants of the user with this id.'),
        queryParameter('client_id', "Only this client's grants."),
        ...PAGE_PARAMETERS,
      ],
      responses: { '200': json(listOf('Grant'), 'A page of grants') },
    },
  },
  {
    method: 'get',
    path: '/admin/audit',
    access: { kind: 'admin', scope: 'admin:tokens' },
    handler: listAudit,
    operation: {
      tags: ['Admin: tokens'],
      operationId: 'listAudit',
      summary: 'Audit log, newest first',
      parameters: [
        queryParameter('action', 'Only this action, e.g. client.create.'),
        queryParameter('actor_id', 'Only entries by this actor: a client id or a user id.'),
        queryParameter('target', 'Only entries whose details name this user id, username, client id, grant id, jti, kid or resource URI.'),
        queryParameter('since', 'Only entries at or after this time (RFC 3339, e.g. 2026-11-26T21:00:00Z).', { type: 'string', format: 'date-time' }),
        queryParameter('until', 'Only entries at or before this time (RFC 3339).', { type: 'string', format: 'date-time' }),
        ...PAGE_PARAMETERS,
      ],
      responses: { '200': json(listOf('AuditEntry'), 'A page of audit entries') },
    },
  },

  // Admin API: keys
  {
    method: 'get',
    path: '/admin/keys',
    access: { kind: 'admin', scope: 'admin:keys' },
    handler: listKeys,
    operation: {
      tags: ['Admin: keys'],
      operationId: 'listKeys',
      summary: 'Signing keys and their lifecycle state, and when the next scheduled rotation is due',
      responses: { '200': json(ref('SigningKeyList'), 'Every key (one page)') },
    },
  },
  {
    method: 'post',
    path: '/admin/keys/rotate',
    access: { kind: 'admin', scope: 'admin:keys' },
    handler: rotateKeysNow,
    operation: {
      tags: ['Admin: keys'],
      operationId: 'rotateKeys',
      summary: 'Rotate now: the published next key signs at once, and a new next key is published',
      requestBody: { ...jsonRequest(rotateKeysRequestSchema), required: false },
      responses: { '200': json(ref('RotateKeysResponse'), 'The kids now current and next') },
    },
  },

  // Admin API: clients
  {
    method: 'get',
    path: '/admin/clients',
    access: { kind: 'admin', scope: 'admin:clients' },
    handler: listClients,
    operation: {
      tags: ['Admin: clients'],
      operationId: 'listClients',
      summary: 'Clients, by id',
      parameters: PAGE_PARAMETERS,
      responses: { '200': json(listOf('Client'), 'A page of clients') },
    },
  },
  {
    method: 'post',
    path: '/admin/clients',
    access: { kind: 'admin', scope: 'admin:clients' },
    handler: registerClient,
    operation: {
      tags: ['Admin: clients'],
      operationId: 'createClient',
      summary: 'Register a client',
      description: 'A secret is generated (256 random bits) unless one is given or the client is public; it is shown only in this answer.',
      requestBody: jsonRequest(createClientRequestSchema),
      responses: {
        '201': { ...json(ref('ClientWithSecret'), 'Created'), headers: { Location: { schema: { type: 'string' } } } },
        '409': json(errorCodes(['conflict']), 'A client with this id exists'),
      },
    },
  },
  {
    method: 'get',
    path: '/admin/clients/{id}',
    access: { kind: 'admin', scope: 'admin:clients' },
    handler: getClient,
    operation: {
      tags: ['Admin: clients'],
      operationId: 'getClient',
      summary: 'One client',
      parameters: [ID_PARAMETER('The client id')],
      responses: { '200': json(ref('Client'), 'The client'), ...NOT_FOUND },
    },
  },
  {
    method: 'patch',
    path: '/admin/clients/{id}',
    access: { kind: 'admin', scope: 'admin:clients' },
    handler: updateClient,
    operation: {
      tags: ['Admin: clients'],
      operationId: 'updateClient',
      summary: 'Change a client',
      description: '`rotate_secret: true` generates a new secret, returned in this answer.',
      parameters: [ID_PARAMETER('The client id')],
      requestBody: jsonRequest(updateClientRequestSchema),
      responses: { '200': json({ oneOf: [ref('ClientWithSecret'), ref('Client')] }, 'The changed client'), ...NOT_FOUND },
    },
  },
  {
    method: 'delete',
    path: '/admin/clients/{id}',
    access: { kind: 'admin', scope: 'admin:clients' },
    handler: removeClient,
    operation: {
      tags: ['Admin: clients'],
      operationId: 'deleteClient',
      summary: 'Delete a client, its grants and refresh tokens; its access tokens turn inactive for good',
      parameters: [ID_PARAMETER('The client id')],
      responses: { '204': { description: 'Deleted' }, ...NOT_FOUND },
    },
  },

  // Admin API: resources (RFC 8707)
  {
    method: 'get',
    path: '/admin/resources',
    access: { kind: 'admin', scope: 'admin:clients' },
    handler: listResources,
    operation: {
      tags: ['Admin: resources'],
      operationId: 'listResources',
      summary: 'Resources (APIs that tokens may be meant for, RFC 8707), by URI',
      parameters: PAGE_PARAMETERS,
      responses: { '200': json(listOf('Resource'), 'A page of resources') },
    },
  },
  {
    method: 'post',
    path: '/admin/resources',
    access: { kind: 'admin', scope: 'admin:clients' },
    handler: registerResource,
    operation: {
      tags: ['Admin: resources'],
      operationId: 'createResource',
      summary: 'Register a resource: its URI (the aud of its tokens) and the scopes it defines',
      requestBody: jsonRequest(createResourceRequestSchema),
      responses: {
        '201': { ...json(ref('Resource'), 'Created'), headers: { Location: { schema: { type: 'string' } } } },
        '409': json(errorCodes(['conflict']), 'A resource with this URI exists'),
      },
    },
  },
  {
    method: 'get',
    path: '/admin/resources/{uri}',
    access: { kind: 'admin', scope: 'admin:clients' },
    handler: getResource,
    operation: {
      tags: ['Admin: resources'],
      operationId: 'getResource',
      summary: 'One resource',
      parameters: [RESOURCE_URI_PARAMETER],
      responses: { '200': json(ref('Resource'), 'The resource'), ...NOT_FOUND },
    },
  },
  {
    method: 'patch',
    path: '/admin/resources/{uri}',
    access: { kind: 'admin', scope: 'admin:clients' },
    handler: updateResource,
    operation: {
      tags: ['Admin: resources'],
      operationId: 'updateResource',
      summary: 'Change the scopes a resource defines (tokens issued from now on)',
      parameters: [RESOURCE_URI_PARAMETER],
      requestBody: jsonRequest(updateResourceRequestSchema),
      responses: { '200': json(ref('Resource'), 'The changed resource'), ...NOT_FOUND },
    },
  },
  {
    method: 'delete',
    path: '/admin/resources/{uri}',
    access: { kind: 'admin', scope: 'admin:clients' },
    handler: removeResource,
    operation: {
      tags: ['Admin: resources'],
      operationId: 'deleteResource',
      summary: 'Delete a resource; refused while a client is registered for it',
      parameters: [RESOURCE_URI_PARAMETER],
      responses: { '204': { description: 'Deleted' }, '409': json(errorCodes(['conflict']), 'Clients are registered for it'), ...NOT_FOUND },
    },
  },

  // Admin API: users
  {
    method: 'get',
    path: '/admin/users',
    access: { kind: 'admin', scope: 'admin:users' },
    handler: listUsers,
    operation: {
      tags: ['Admin: users'],
      operationId: 'listUsers',
      summary: 'Users, by username',
      parameters: [queryParameter('search', 'Only users whose username, email or name contains this text, ignoring case.'), ...PAGE_PARAMETERS],
      responses: { '200': json(listOf('User'), 'A page of users') },
    },
  },
  {
    method: 'post',
    path: '/admin/users',
    access: { kind: 'admin', scope: 'admin:users' },
    handler: registerUser,
    operation: {
      tags: ['Admin: users'],
      operationId: 'createUser',
      summary: 'Create a user',
      requestBody: jsonRequest(createUserRequestSchema),
      responses: {
        '201': { ...json(ref('User'), 'Created'), headers: { Location: { schema: { type: 'string' } } } },
        '409': json(errorCodes(['conflict']), 'A user with this username exists'),
      },
    },
  },
  {
    method: 'get',
    path: '/admin/users/{id}',
    access: { kind: 'admin', scope: 'admin:users' },
    handler: getUser,
    operation: {
      tags: ['Admin: users'],
      operationId: 'getUser',
      summary: 'One user',
      parameters: [ID_PARAMETER('The user id (the sub of its tokens)')],
      responses: { '200': json(ref('User'), 'The user'), ...NOT_FOUND },
    },
  },
  {
    method: 'patch',
    path: '/admin/users/{id}',
    access: { kind: 'admin', scope: 'admin:users' },
    handler: updateUser,
    operation: {
      tags: ['Admin: users'],
      operationId: 'updateUser',
      summary: 'Change a user',
      description: '`{"disabled": true}` or a new `password` also ends every grant of the user.',
      parameters: [ID_PARAMETER('The user id (the sub of its tokens)')],
      requestBody: jsonRequest(updateUserRequestSchema),
      responses: { '200': json(ref('UpdatedUser'), 'The changed user'), ...NOT_FOUND },
    },
  },
  {
    method: 'delete',
    path: '/admin/users/{id}',
    access: { kind: 'admin', scope: 'admin:users' },
    handler: removeUser,
    operation: {
      tags: ['Admin: users'],
      operationId: 'deleteUser',
      summary: 'Delete a user; its tokens turn inactive at once',
      parameters: [ID_PARAMETER('The user id (the sub of its tokens)')],
      responses: { '204': { description: 'Deleted' }, ...NOT_FOUND },
    },
  },

  // Admin console (src/console/): a page for people, a client of the admin API (CONSOLE_ENABLED)
  {
    method: 'get',
    path: '/console',
    access: { kind: 'anyone' },
    when: (config) => config.consoleEnabled,
    handler: () => consoleEndpoints().page,
    operation: {
      tags: ['Operations'],
      operationId: 'adminConsole',
      summary: 'The admin console (HTML): a page for people that signs in with the password grant and calls the admin API',
      description: 'Served while CONSOLE_ENABLED is true (the default). Content-Security-Policy: scripts, styles and requests from this origin only.',
      responses: { '200': { description: 'An HTML page', content: { 'text/html': { schema: { type: 'string' } } } } },
    },
  },
  {
    method: 'get',
    path: '/console/{asset}',
    access: { kind: 'anyone' },
    when: (config) => config.consoleEnabled,
    handler: () => consoleEndpoints().asset,
    operation: {
      tags: ['Operations'],
      operationId: 'adminConsoleAsset',
      summary: 'A file of the admin console (JavaScript module or style sheet)',
      parameters: [{ name: 'asset', in: 'path', required: true, schema: { type: 'string' } }],
      responses: { '200': { description: 'The file' }, '404': json(ERROR, 'No such file') },
    },
  },

  // Operations
  {
    method: 'get',
    path: '/healthz',
    access: { kind: 'anyone' },
    handler: () => livenessEndpoint,
    operation: { tags: ['Operations'], operationId: 'liveness', summary: 'Liveness: the process answers', responses: { '200': json(ref('Liveness'), 'Up') } },
  },
  {
    method: 'get',
    path: '/readyz',
    access: { kind: 'anyone' },
    handler: readinessEndpoint,
    operation: {
      tags: ['Operations'],
      operationId: 'readiness',
      summary: 'Readiness: database reachable, migrations current, signing key loaded',
      responses: {
        '200': json(ref('Readiness'), 'Ready'),
        '503': { ...json(ref('Readiness'), 'Not ready; the failing checks are named'), headers: RETRY_AFTER },
      },
    },
  },
  {
    method: 'get',
    path: '/metrics',
    access: { kind: 'anyone' },
    handler: metricsEndpoint,
    operation: {
      tags: ['Operations'],
      operationId: 'metrics',
      summary: 'Prometheus metrics',
      description:
        'Process metrics, request durations by route and status, tokens issued by grant type, refresh reuse, revocations, failed logins, rate-limit rejections, signing key age, database pool.\n\n' +
        'Open unless the server sets METRICS_TOKEN; then it requires `Authorization: Bearer <METRICS_TOKEN>`.',
      security: [{}, { metricsBearer: [] }],
      responses: {
        '200': { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } },
        '401': { ...json(errorCodes(['invalid_token']), 'invalid_token: METRICS_TOKEN is set and the request lacks it'), headers: BEARER_CHALLENGE },
      },
    },
  },
  {
    method: 'get',
    path: '/openapi.json',
    access: { kind: 'anyone' },
    handler: (deps) => openApiEndpoint(servedRoutes(ROUTES, deps.config)),
    operation: {
      tags: ['Operations'],
      operationId: 'openapi',
      summary: 'This document',
      responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } },
    },
  },
  {
    method: 'get',
    path: '/docs',
    access: { kind: 'anyone' },
    handler: () => apiReferencePage,
    operation: {
      tags: ['Operations'],
      operationId: 'apiReference',
      summary: 'API reference rendered from this document (HTML)',
      responses: { '200': { description: 'An HTML page', content: { 'text/html': { schema: { type: 'string' } } } } },
    },
  },
  {
    method: 'get',
    path: '/docs/{asset}',
    access: { kind: 'anyone' },
    handler: () => apiReferenceAsset,
    operation: {
      tags: ['Operations'],
      operationId: 'apiReferenceAsset',
      summary: 'A static file of the API reference page',
      parameters: [{ name: 'asset', in: 'path', required: true, schema: { type: 'string' } }],
      responses: { '200': { description: 'The file' }, '404': json(ERROR, 'No such file') },
    },
  },
];
