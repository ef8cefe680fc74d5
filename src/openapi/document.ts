import { createClientRequestSchema, updateClientRequestSchema } from '../endpoints/admin/clients.js';
import { rotateKeysRequestSchema } from '../endpoints/admin/keys.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../endpoints/admin/pagination.js';
import { revocationRequestSchema } from '../endpoints/admin/revocations.js';
import { createUserRequestSchema, updateUserRequestSchema } from '../endpoints/admin/users.js';
import { introspectionRequestSchema } from '../endpoints/introspect.js';
import { tokenRevocationRequestSchema } from '../endpoints/revoke.js';
import { GRANT_HANDLERS } from '../grants/index.js';

/**
 * The OpenAPI 3.1 description of every endpoint. Request schemas are the very objects the
 * endpoints validate with (grant `parameters`, the admin request schemas, the introspection and
 * revocation form schemas), so the document cannot drift from the code; responses are described
 * here and checked against real answers by test/http/openapi.test.ts.
 */

type Schema = Record<string, unknown>;
type Operation = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Schema, description: string): Schema => ({ description, content: { 'application/json': { schema } } });
const form = (schema: Schema): Schema => ({ required: true, content: { 'application/x-www-form-urlencoded': { schema } } });
const jsonRequest = (schema: Schema): Schema => ({ required: true, content: { 'application/json': { schema } } });
const TIMESTAMP = { type: 'string', format: 'date-time' } as const;
const NULLABLE_TIMESTAMP = { type: ['string', 'null'], format: 'date-time' } as const;

/** Client authentication in the body (client_secret_post, or none for public clients). */
const CLIENT_AUTH_PROPERTIES = {
  client_id: { type: 'string', description: 'client_secret_post and public clients (none): the client id. With Basic it may repeat the id of the header.' },
  client_secret: { type: 'string', description: 'client_secret_post: the client secret. Never together with Basic.' },
} as const;

/** A form schema the code validates with, plus the client authentication parameters. */
function withClientAuth(schema: { type: 'object'; required: readonly string[]; properties: Record<string, unknown> }, extra: Schema = {}): Schema {
  return { ...schema, ...extra, properties: { ...(extra.properties as object | undefined), ...schema.properties, ...CLIENT_AUTH_PROPERTIES } };
}

function grantComponentName(grantType: string): string {
  return `${grantType.split('_').map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join('')}GrantRequest`;
}

const errorCodes = (codes: string[]): Schema => ({ allOf: [ref('OAuthError')], properties: { error: { enum: codes } } });

/** An object with exactly these properties, all present (nullable ones say so in their type). */
function strictObject(properties: Record<string, Schema>): Schema {
  return { type: 'object', required: Object.keys(properties), properties, additionalProperties: false };
}

const CLIENT_PROPERTIES: Record<string, Schema> = {
  client_id: { type: 'string' },
  public: { type: 'boolean', description: 'A public client has no secret and authenticates with client_id only.' },
  grant_types: { type: 'array', items: { type: 'string' } },
  scopes: { type: 'array', items: { type: 'string' } },
  audience: { type: ['string', 'null'], description: 'The aud of its tokens; null means the issuer.' },
  created_at: TIMESTAMP,
  updated_at: TIMESTAMP,
};

const USER_PROPERTIES: Record<string, Schema> = {
  id: { type: 'string', format: 'uuid', description: "The sub of the user's tokens." },
  username: { type: 'string' },
  email: { type: ['string', 'null'] },
  name: { type: ['string', 'null'] },
  scopes: { type: 'array', items: { type: 'string' } },
  disabled: { type: 'boolean' },
  created_at: TIMESTAMP,
  updated_at: TIMESTAMP,
};

const RESPONSE_SCHEMAS: Record<string, Schema> = {
  OAuthError: {
    description: 'RFC 6749 §5.2 error body; every error of every endpoint has this shape.',
    type: 'object',
    required: ['error', 'error_description'],
    properties: {
      error: { type: 'string', description: 'Stable error code, e.g. invalid_request, invalid_client, invalid_grant, invalid_token, insufficient_scope.' },
      error_description: { type: 'string', description: 'Human-readable, safe to show.' },
    },
  },
  TokenResponse: {
    description: 'RFC 6749 §5.1. The access token is an RFC 9068 JWT (RS256, typ at+jwt).',
    type: 'object',
    required: ['access_token', 'token_type', 'expires_in', 'scope'],
    properties: {
      access_token: { type: 'string' },
      token_type: { type: 'string', enum: ['Bearer'] },
      expires_in: { type: 'integer', minimum: 0, description: 'Seconds until the access token expires.' },
      refresh_token: { type: 'string', description: 'Opaque; rotated on every use. Absent for client_credentials.' },
      scope: { type: 'string', description: 'The granted scope, space-separated; always present.' },
    },
    additionalProperties: false,
  },
  IntrospectionResponse: {
    description: 'RFC 7662 §2.2. An unknown, expired or revoked token is just {"active": false}.',
    oneOf: [
      { type: 'object', required: ['active'], properties: { active: { const: false } }, additionalProperties: false },
      {
        type: 'object',
        required: ['active', 'token_type', 'scope', 'client_id', 'sub', 'aud', 'iss', 'exp', 'iat'],
        properties: {
          active: { const: true },
          token_type: { type: 'string', enum: ['Bearer', 'refresh_token'] },
          scope: { type: 'string' },
          client_id: { type: 'string' },
          sub: { type: 'string' },
          aud: { type: 'string' },
          iss: { type: 'string' },
          exp: { type: 'integer' },
          iat: { type: 'integer' },
          jti: { type: 'string' },
          username: { type: 'string' },
        },
        additionalProperties: false,
      },
    ],
  },
  AuthorizationServerMetadata: {
    description: 'RFC 8414 §2.',
    type: 'object',
    required: ['issuer', 'token_endpoint', 'jwks_uri', 'grant_types_supported', 'response_types_supported'],
    properties: {
      issuer: { type: 'string', format: 'uri' },
      token_endpoint: { type: 'string', format: 'uri' },
      jwks_uri: { type: 'string', format: 'uri' },
      introspection_endpoint: { type: 'string', format: 'uri' },
      revocation_endpoint: { type: 'string', format: 'uri' },
      grant_types_supported: { type: 'array', items: { type: 'string' } },
      response_types_supported: { type: 'array', items: { type: 'string' }, maxItems: 0 },
      scopes_supported: { type: 'array', items: { type: 'string' } },
      token_endpoint_auth_methods_supported: { type: 'array', items: { type: 'string' } },
      introspection_endpoint_auth_methods_supported: { type: 'array', items: { type: 'string' } },
      revocation_endpoint_auth_methods_supported: { type: 'array', items: { type: 'string' } },
      service_documentation: { type: 'string', format: 'uri', description: 'The human-readable API reference (GET /docs).' },
    },
  },
  JsonWebKeySet: {
    description: 'RFC 7517 §5: the public halves of the next, current and retired signing keys.',
    type: 'object',
    required: ['keys'],
    properties: {
      keys: {
        type: 'array',
        items: {
          type: 'object',
          required: ['kty', 'kid', 'n', 'e'],
          properties: {
            kty: { const: 'RSA' },
            kid: { type: 'string' },
            use: { const: 'sig' },
            alg: { const: 'RS256' },
            n: { type: 'string' },
            e: { type: 'string' },
          },
        },
      },
    },
  },
  Client: strictObject(CLIENT_PROPERTIES),
  ClientWithSecret: {
    description: 'A client with its secret, shown this once (on creation, or when rotate_secret generated a new one).',
    ...strictObject({ ...CLIENT_PROPERTIES, client_secret: { type: ['string', 'null'], description: 'null for a public client.' } }),
  },
  User: strictObject(USER_PROPERTIES),
  UpdatedUser: strictObject({
    ...USER_PROPERTIES,
    revoked_grants: { type: 'integer', minimum: 0, description: 'Grants ended by this change (password change, disabling).' },
  }),
  Grant: {
    description: 'An active grant (session): a refresh token family.',
    type: 'object',
    required: ['grant_id', 'client_id', 'user_id', 'username', 'scope', 'created_at', 'last_refreshed_at', 'expires_at'],
    properties: {
      grant_id: { type: 'string', format: 'uuid' },
      client_id: { type: 'string' },
      user_id: { type: ['string', 'null'] },
      username: { type: ['string', 'null'] },
      scope: { type: 'string' },
      created_at: TIMESTAMP,
      last_refreshed_at: { ...NULLABLE_TIMESTAMP, description: 'When a refresh token of the grant was last used; null if it never was.' },
      expires_at: TIMESTAMP,
    },
    additionalProperties: false,
  },
  SigningKey: {
    type: 'object',
    required: ['kid', 'state', 'created_at', 'activated_at', 'retired_at', 'remove_after'],
    properties: {
      kid: { type: 'string' },
      state: { type: 'string', enum: ['next', 'current', 'retired'] },
      created_at: TIMESTAMP,
      activated_at: NULLABLE_TIMESTAMP,
      retired_at: NULLABLE_TIMESTAMP,
      remove_after: NULLABLE_TIMESTAMP,
    },
    additionalProperties: false,
  },
  SigningKeyList: {
    type: 'object',
    required: ['items', 'next_cursor', 'next_rotation_at'],
    properties: {
      items: { type: 'array', items: ref('SigningKey') },
      next_cursor: { type: 'null', description: 'Always null: every key is on the one page.' },
      next_rotation_at: {
        ...NULLABLE_TIMESTAMP,
        description: 'When the scheduled rotation is due (the current key has signed for KEY_ROTATION_INTERVAL and the next key has been published for KEY_PUBLISH_AHEAD); an instance makes it within seconds of this time.',
      },
    },
    additionalProperties: false,
  },
  AuditEntry: {
    type: 'object',
    required: ['id', 'at', 'actor', 'action', 'details', 'count'],
    properties: {
      id: { type: 'string' },
      at: TIMESTAMP,
      actor: {
        type: 'object',
        description: 'Who acted. type cli: the CLI; system: Gatehouse itself; client: a client with its own token (id = client id); user: a user (id = user id) through the client client_id.',
        required: ['type'],
        properties: {
          type: { enum: ['cli', 'system', 'client', 'user', 'unknown'] },
          id: { type: 'string' },
          client_id: { type: ['string', 'null'] },
          username: { type: 'string', description: 'The acting user, while the user exists.' },
        },
        additionalProperties: false,
      },
      action: { type: 'string' },
      details: { type: 'object', description: 'Identifiers only, never secrets or token values.' },
      count: { type: ['integer', 'null'] },
    },
    additionalProperties: false,
  },
  RotateKeysResponse: {
    type: 'object',
    required: ['current', 'next'],
    properties: { current: { type: 'string', description: 'kid now signing' }, next: { type: 'string', description: 'kid published for the next rotation' } },
    additionalProperties: false,
  },
  RevocationResult: {
    type: 'object',
    required: ['revoked'],
    properties: { revoked: { type: 'integer', minimum: 0, description: 'Grants newly revoked; for a jti, 1 if a live token was newly revoked, else 0.' } },
    additionalProperties: false,
  },
  Liveness: { type: 'object', required: ['status'], properties: { status: { const: 'ok' } } },
  Readiness: {
    type: 'object',
    required: ['status', 'checks'],
    properties: {
      status: { type: 'string', enum: ['ready', 'unavailable'] },
      checks: { type: 'object', additionalProperties: { type: 'string', enum: ['ok', 'failing'] } },
    },
  },
};

function listOf(item: string): Schema {
  return {
    type: 'object',
    required: ['items', 'next_cursor'],
    properties: {
      items: { type: 'array', items: ref(item) },
      next_cursor: { type: ['string', 'null'], description: 'Pass as `cursor` for the next page; null on the last page.' },
    },
    additionalProperties: false,
  };
}

const queryParameter = (name: string, description: string, schema: Schema = { type: 'string' }): Schema => ({ name, in: 'query', required: false, description, schema });
const PAGE_PARAMETERS = [
  queryParameter('limit', `Page size, 1 to ${MAX_PAGE_SIZE} (default ${DEFAULT_PAGE_SIZE}).`, { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE }),
  queryParameter('cursor', 'The next_cursor of the previous page.'),
];
const ID_PARAMETER = (description: string): Schema => ({ name: 'id', in: 'path', required: true, description, schema: { type: 'string' } });

const ERROR = ref('OAuthError');
const BEARER_CHALLENGE = { 'WWW-Authenticate': { description: 'RFC 6750 §3 Bearer challenge.', schema: { type: 'string' } } };

/** The answers every admin operation may give besides its success. */
function adminErrors(extra: Record<string, Schema> = {}): Record<string, Schema> {
  return {
    '400': json(ERROR, 'invalid_request: a malformed body, query or cursor'),
    '401': { ...json(ERROR, 'invalid_token: missing, invalid, expired or revoked access token'), headers: BEARER_CHALLENGE },
    '403': { ...json(errorCodes(['insufficient_scope']), 'insufficient_scope: the token lacks the scope of this operation'), headers: BEARER_CHALLENGE },
    ...extra,
  };
}

function adminOperation(scope: string, tag: string, operation: Operation, extraErrors: Record<string, Schema> = {}): Operation {
  return {
    tags: [tag],
    ...operation,
    description: `${(operation.description as string | undefined) ?? ''}${operation.description ? '\n\n' : ''}Requires a bearer access token carrying the scope \`${scope}\`.`,
    security: [{ adminBearer: [scope] }],
    responses: { ...(operation.responses as object), ...adminErrors(extraErrors) },
  };
}

const NOT_FOUND = { '404': json(errorCodes(['not_found']), 'No such resource') };
const CLIENT_SECURITY = [{ clientBasic: [] }, {}];
const CLIENT_AUTH_TEXT =
  'Client authentication: `client_secret_basic` (HTTP Basic, id and secret form-urlencoded first, RFC 6749 §2.3.1), ' +
  '`client_secret_post` (client_id and client_secret in the body) or, for public clients, `none` (client_id only). ' +
  'Two methods at once is invalid_request; none at all is invalid_client.';
const INVALID_CLIENT = {
  ...json(errorCodes(['invalid_client']), 'invalid_client: client authentication failed or is missing'),
  headers: { 'WWW-Authenticate': { description: 'Basic challenge, when the client tried Basic.', schema: { type: 'string' } } },
};
const NO_STORE = { 'Cache-Control': { description: 'no-store', schema: { type: 'string' } } };

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: Record<string, unknown>;
  servers: { url: string }[];
  paths: Record<string, Record<string, unknown>>;
  components: Record<string, unknown>;
  [key: string]: unknown;
}

export function buildOpenApiDocument(options: { issuer: string; version?: string }): OpenApiDocument {
  const grantSchemas: Record<string, Schema> = {};
  for (const handler of GRANT_HANDLERS.values()) {
    grantSchemas[grantComponentName(handler.grantType)] = withClientAuth(handler.parameters, {
      title: `grant_type=${handler.grantType}`,
      required: ['grant_type', ...handler.parameters.required],
      properties: { grant_type: { type: 'string', const: handler.grantType } },
    });
  }
  const grantTypes = [...GRANT_HANDLERS.keys()];

  const paths: OpenApiDocument['paths'] = {
    '/.well-known/oauth-authorization-server': {
      get: {
        tags: ['Discovery'],
        operationId: 'getAuthorizationServerMetadata',
        summary: 'Authorization server metadata (RFC 8414)',
        responses: { '200': json(ref('AuthorizationServerMetadata'), 'The metadata; issuer is the exact URL of this server') },
      },
    },
    '/.well-known/jwks.json': {
      get: {
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
    '/token': {
      post: {
        tags: ['OAuth 2'],
        operationId: 'token',
        summary: 'Token endpoint (RFC 6749 §3.2)',
        description: `Grant types: ${grantTypes.join(', ')}. A client may use only the grant types and scopes it was registered with. ${CLIENT_AUTH_TEXT}`,
        security: CLIENT_SECURITY,
        requestBody: form({ oneOf: Object.keys(grantSchemas).map(ref) }),
        responses: {
          '200': { ...json(ref('TokenResponse'), 'Tokens issued'), headers: NO_STORE },
          '400': json(
            errorCodes(['invalid_request', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'invalid_scope']),
            'The request was refused (RFC 6749 §5.2)',
          ),
          '401': INVALID_CLIENT,
          '413': json(ERROR, 'The body is larger than 16 KiB'),
          '429': {
            ...json(ERROR, 'Too many requests from this IP address (RATE_LIMIT_PER_IP)'),
            headers: { 'Retry-After': { schema: { type: 'integer' } } },
          },
        },
      },
    },
    '/introspect': {
      post: {
        tags: ['OAuth 2'],
        operationId: 'introspect',
        summary: 'Token introspection (RFC 7662)',
        description: `Tells whether a token is active now; revocation shows here at once. The caller must be a confidential client (public clients get invalid_client). ${CLIENT_AUTH_TEXT}`,
        security: CLIENT_SECURITY,
        requestBody: form(withClientAuth(introspectionRequestSchema)),
        responses: {
          '200': { ...json(ref('IntrospectionResponse'), 'What the token says, or {"active": false}'), headers: NO_STORE },
          '400': json(errorCodes(['invalid_request']), 'Malformed request'),
          '401': INVALID_CLIENT,
        },
      },
    },
    '/revoke': {
      post: {
        tags: ['OAuth 2'],
        operationId: 'revoke',
        summary: 'Token revocation (RFC 7009)',
        description: `Revoking a refresh token ends its whole grant; revoking an access token denies its jti at /introspect. Answers 200 whether or not the token was known (RFC 7009 §2.2). ${CLIENT_AUTH_TEXT}`,
        security: CLIENT_SECURITY,
        requestBody: form(withClientAuth(tokenRevocationRequestSchema)),
        responses: {
          '200': { description: 'Revoked, or unknown (empty body)' },
          '400': json(errorCodes(['invalid_request', 'unsupported_token_type']), 'Malformed request, or an unsupported token_type_hint'),
          '401': INVALID_CLIENT,
        },
      },
    },
    '/admin/revocations': {
      post: adminOperation('admin:tokens', 'Admin: tokens', {
        operationId: 'createRevocation',
        summary: 'Revoke grants by user, client, grant or token',
        description: 'Give exactly one of username, user_id, client_id, grant_id, jti.',
        requestBody: jsonRequest(revocationRequestSchema),
        responses: { '200': json(ref('RevocationResult'), 'How much was revoked') },
      }),
    },
    '/admin/grants': {
      get: adminOperation('admin:tokens', 'Admin: tokens', {
        operationId: 'listGrants',
        summary: 'Active grants (sessions), newest first',
        parameters: [
          queryParameter('username', 'Only this user\'s grants.'),
          queryParameter('user_id', 'Only the grants of the user with this id.'),
          queryParameter('client_id', 'Only this client\'s grants.'),
          ...PAGE_PARAMETERS,
        ],
        responses: { '200': json(listOf('Grant'), 'A page of grants') },
      }),
    },
    '/admin/audit': {
      get: adminOperation('admin:tokens', 'Admin: tokens', {
        operationId: 'listAudit',
        summary: 'Audit log, newest first',
        parameters: [
          queryParameter('action', 'Only this action, e.g. client.create.'),
          queryParameter('actor_id', 'Only entries by this actor: a client id or a user id.'),
          queryParameter('target', 'Only entries whose details name this user id, username, client id, grant id, jti or kid.'),
          queryParameter('since', 'Only entries at or after this time (RFC 3339, e.g. 2026-11-26T21:00:00Z).', { type: 'string', format: 'date-time' }),
          queryParameter('until', 'Only entries at or before this time (RFC 3339).', { type: 'string', format: 'date-time' }),
          ...PAGE_PARAMETERS,
        ],
        responses: { '200': json(listOf('AuditEntry'), 'A page of audit entries') },
      }),
    },
    '/admin/keys': {
      get: adminOperation('admin:keys', 'Admin: keys', {
        operationId: 'listKeys',
        summary: 'Signing keys and their lifecycle state, and when the next scheduled rotation is due',
        responses: { '200': json(ref('SigningKeyList'), 'Every key (one page)') },
      }),
    },
    '/admin/keys/rotate': {
      post: adminOperation('admin:keys', 'Admin: keys', {
        operationId: 'rotateKeys',
        summary: 'Rotate now: the published next key signs at once, and a new next key is published',
        requestBody: { ...jsonRequest(rotateKeysRequestSchema), required: false },
        responses: { '200': json(ref('RotateKeysResponse'), 'The kids now current and next') },
      }),
    },
    '/admin/clients': {
      get: adminOperation('admin:clients', 'Admin: clients', {
        operationId: 'listClients',
        summary: 'Clients, by id',
        parameters: PAGE_PARAMETERS,
        responses: { '200': json(listOf('Client'), 'A page of clients') },
      }),
      post: adminOperation(
        'admin:clients',
        'Admin: clients',
        {
          operationId: 'createClient',
          summary: 'Register a client',
          description: 'A secret is generated (256 random bits) unless one is given or the client is public; it is shown only in this answer.',
          requestBody: jsonRequest(createClientRequestSchema),
          responses: { '201': { ...json(ref('ClientWithSecret'), 'Created'), headers: { Location: { schema: { type: 'string' } } } } },
        },
        { '409': json(errorCodes(['conflict']), 'A client with this id exists') },
      ),
    },
    '/admin/clients/{id}': {
      parameters: [ID_PARAMETER('The client id')],
      get: adminOperation('admin:clients', 'Admin: clients', { operationId: 'getClient', summary: 'One client', responses: { '200': json(ref('Client'), 'The client') } }, NOT_FOUND),
      patch: adminOperation(
        'admin:clients',
        'Admin: clients',
        {
          operationId: 'updateClient',
          summary: 'Change a client',
          description: '`rotate_secret: true` generates a new secret, returned in this answer.',
          requestBody: jsonRequest(updateClientRequestSchema),
          responses: { '200': json({ oneOf: [ref('ClientWithSecret'), ref('Client')] }, 'The changed client') },
        },
        NOT_FOUND,
      ),
      delete: adminOperation(
        'admin:clients',
        'Admin: clients',
        { operationId: 'deleteClient', summary: 'Delete a client, its grants and refresh tokens', responses: { '204': { description: 'Deleted' } } },
        NOT_FOUND,
      ),
    },
    '/admin/users': {
      get: adminOperation('admin:users', 'Admin: users', {
        operationId: 'listUsers',
        summary: 'Users, by username',
        parameters: [queryParameter('search', 'Only users whose username, email or name contains this text, ignoring case.'), ...PAGE_PARAMETERS],
        responses: { '200': json(listOf('User'), 'A page of users') },
      }),
      post: adminOperation(
        'admin:users',
        'Admin: users',
        {
          operationId: 'createUser',
          summary: 'Create a user',
          requestBody: jsonRequest(createUserRequestSchema),
          responses: { '201': { ...json(ref('User'), 'Created'), headers: { Location: { schema: { type: 'string' } } } } },
        },
        { '409': json(errorCodes(['conflict']), 'A user with this username exists') },
      ),
    },
    '/admin/users/{id}': {
      parameters: [ID_PARAMETER('The user id (the sub of its tokens)')],
      get: adminOperation('admin:users', 'Admin: users', { operationId: 'getUser', summary: 'One user', responses: { '200': json(ref('User'), 'The user') } }, NOT_FOUND),
      patch: adminOperation(
        'admin:users',
        'Admin: users',
        {
          operationId: 'updateUser',
          summary: 'Change a user',
          description: '`{"disabled": true}` or a new `password` also ends every grant of the user.',
          requestBody: jsonRequest(updateUserRequestSchema),
          responses: { '200': json(ref('UpdatedUser'), 'The changed user') },
        },
        NOT_FOUND,
      ),
      delete: adminOperation(
        'admin:users',
        'Admin: users',
        { operationId: 'deleteUser', summary: 'Delete a user; its tokens turn inactive at once', responses: { '204': { description: 'Deleted' } } },
        NOT_FOUND,
      ),
    },
    '/console': {
      get: {
        tags: ['Operations'],
        operationId: 'adminConsole',
        summary: 'The admin console (HTML): a page for people that signs in with the password grant and calls the admin API',
        description: 'Served while CONSOLE_ENABLED is true (the default); otherwise 404. Content-Security-Policy: scripts, styles and requests from this origin only.',
        responses: { '200': { description: 'An HTML page', content: { 'text/html': { schema: { type: 'string' } } } }, '404': json(ERROR, 'CONSOLE_ENABLED is false') },
      },
    },
    '/console/{asset}': {
      get: {
        tags: ['Operations'],
        operationId: 'adminConsoleAsset',
        summary: 'A file of the admin console (JavaScript module or style sheet)',
        parameters: [{ name: 'asset', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { '200': { description: 'The file' }, '404': json(ERROR, 'No such file') },
      },
    },
    '/healthz': {
      get: {
        tags: ['Operations'],
        operationId: 'liveness',
        summary: 'Liveness: the process answers',
        responses: { '200': json(ref('Liveness'), 'Up') },
      },
    },
    '/readyz': {
      get: {
        tags: ['Operations'],
        operationId: 'readiness',
        summary: 'Readiness: database reachable, migrations current, signing key loaded',
        responses: {
          '200': json(ref('Readiness'), 'Ready'),
          '503': { ...json(ref('Readiness'), 'Not ready; the failing checks are named'), headers: { 'Retry-After': { schema: { type: 'integer' } } } },
        },
      },
    },
    '/metrics': {
      get: {
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
    '/openapi.json': {
      get: {
        tags: ['Operations'],
        operationId: 'openapi',
        summary: 'This document',
        responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } },
      },
    },
    '/docs': {
      get: {
        tags: ['Operations'],
        operationId: 'apiReference',
        summary: 'API reference rendered from this document (HTML)',
        responses: { '200': { description: 'An HTML page', content: { 'text/html': { schema: { type: 'string' } } } } },
      },
    },
    '/docs/{asset}': {
      get: {
        tags: ['Operations'],
        operationId: 'apiReferenceAsset',
        summary: 'A static file of the API reference page',
        parameters: [{ name: 'asset', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { '200': { description: 'The file' }, '404': json(ERROR, 'No such file') },
      },
    },
  };

  return {
    openapi: '3.1.0',
    info: {
      title: 'Gatehouse',
      version: options.version ?? '0.1.0',
      description:
        'OAuth 2 authorization server: password, refresh_token and client_credentials grants, RFC 9068 JWT access tokens signed with rotating RS256 keys, introspection (RFC 7662), revocation (RFC 7009) and an admin API.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: options.issuer }],
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
          description: 'client_secret_basic: client id and secret, each form-urlencoded (RFC 6749 §2.3.1). client_secret_post and none use body parameters instead.',
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
