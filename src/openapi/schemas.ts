import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../endpoints/admin/pagination.js';
import { AUDIT_ACTIONS } from '../services/audit.js';

/**
 * The building blocks of the OpenAPI 3.1 document: components (response bodies) and helpers the
 * route table (src/routes.ts) describes its operations with.
 */

export type Schema = Record<string, unknown>;
export type Operation = Record<string, unknown>;

export const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
export const json = (schema: Schema, description: string): Schema => ({ description, content: { 'application/json': { schema } } });
export const form = (schema: Schema): Schema => ({ required: true, content: { 'application/x-www-form-urlencoded': { schema } } });
export const jsonRequest = (schema: Schema): Schema => ({ required: true, content: { 'application/json': { schema } } });
const TIMESTAMP = { type: 'string', format: 'date-time' } as const;
const NULLABLE_TIMESTAMP = { type: ['string', 'null'], format: 'date-time' } as const;

/** Client authentication in the body (client_secret_post, or none for public clients). */
const CLIENT_AUTH_PROPERTIES = {
  client_id: { type: 'string', description: 'client_secret_post and public clients (none): the client id. With Basic it may repeat the id of the header.' },
  client_secret: { type: 'string', description: 'client_secret_post: the client secret. Never together with Basic.' },
  client_assertion_type: { type: 'string', description: 'private_key_jwt: urn:ietf:params:oauth:client-assertion-type:jwt-bearer (RFC 7523 §2.2).' },
  client_assertion: {
    type: 'string',
    description:
      'private_key_jwt: a JWT signed with a key of the client (RS256, PS256, ES256, EdDSA); iss = sub = client id, aud = the issuer or the token endpoint, exp at most 5 minutes ahead, a jti used once.',
  },
} as const;

/** A form schema the code validates with, plus the client authentication parameters. */
export function withClientAuth(schema: { type: 'object'; required: readonly string[]; properties: Record<string, unknown> }, extra: Schema = {}): Schema {
  return { ...schema, ...extra, properties: { ...(extra.properties as object | undefined), ...schema.properties, ...CLIENT_AUTH_PROPERTIES } };
}

export function grantComponentName(grantType: string): string {
  return `${grantType
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('')}GrantRequest`;
}

export const errorCodes = (codes: string[]): Schema => ({ allOf: [ref('OAuthError')], properties: { error: { enum: codes } } });

/** An object with exactly these properties, all present (nullable ones say so in their type). */
function strictObject(properties: Record<string, Schema>): Schema {
  return { type: 'object', required: Object.keys(properties), properties, additionalProperties: false };
}

const CLIENT_PROPERTIES: Record<string, Schema> = {
  client_id: { type: 'string' },
  public: { type: 'boolean', description: 'A public client has no secret and authenticates with client_id only.' },
  grant_types: { type: 'array', items: { type: 'string' } },
  scopes: { type: 'array', items: { type: 'string' } },
  token_endpoint_auth_method: {
    type: 'string',
    enum: ['client_secret_basic', 'private_key_jwt', 'none'],
    description: 'client_secret_basic: a secret, by Basic or client_secret_post; private_key_jwt: a signed assertion (RFC 7523); none: a public client.',
  },
  audience: { type: ['string', 'null'], description: 'The aud of its tokens when a request names no resource; null means the issuer.' },
  resources: { type: 'array', items: { type: 'string' }, description: 'RFC 8707 resources it may ask tokens for (`resource` at /token).' },
  jwks: { type: ['object', 'null'], description: 'private_key_jwt: its registered JWK Set (public keys).' },
  jwks_uri: { type: ['string', 'null'], description: 'private_key_jwt: where it publishes its JWK Set.' },
  dpop_bound_access_tokens: { type: 'boolean', description: 'RFC 9449 §5.2: every token request must carry a DPoP proof.' },
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

export const RESPONSE_SCHEMAS: Record<string, Schema> = {
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
      token_type: { type: 'string', enum: ['Bearer', 'DPoP'], description: 'DPoP when the request carried a DPoP proof (RFC 9449 §5).' },
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
          token_type: { type: 'string', enum: ['Bearer', 'DPoP', 'refresh_token'] },
          scope: { type: 'string' },
          client_id: { type: 'string' },
          sub: { type: 'string' },
          aud: {
            oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
            description: 'The issuer, the client audience, or the resource(s) the token is for.',
          },
          iss: { type: 'string' },
          exp: { type: 'integer' },
          iat: { type: 'integer' },
          jti: { type: 'string' },
          username: { type: 'string' },
          cnf: {
            type: 'object',
            description: 'RFC 9449 §6.2: the DPoP key the token is bound to (RFC 7638 thumbprint).',
            required: ['jkt'],
            properties: { jkt: { type: 'string' } },
            additionalProperties: false,
          },
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
      token_endpoint_auth_signing_alg_values_supported: { type: 'array', items: { type: 'string' } },
      introspection_endpoint_auth_signing_alg_values_supported: { type: 'array', items: { type: 'string' } },
      revocation_endpoint_auth_signing_alg_values_supported: { type: 'array', items: { type: 'string' } },
      introspection_signing_alg_values_supported: {
        type: 'array',
        items: { type: 'string' },
        description: 'RFC 9701: algorithms of the signed introspection answer.',
      },
      dpop_signing_alg_values_supported: { type: 'array', items: { type: 'string' }, description: 'RFC 9449 §5.1: the algorithms a DPoP proof may use.' },
      service_documentation: { type: 'string', format: 'uri', description: 'The human-readable API reference (GET /docs).' },
      status_list_aggregation_endpoint: {
        type: 'string',
        format: 'uri',
        description: 'The URIs of the live Token Status Lists (draft-ietf-oauth-status-list §9.3, GET /statuslists).',
      },
    },
  },
  StatusListAggregation: {
    description: 'draft-ietf-oauth-status-list §9.3: every list a live access token may point at.',
    type: 'object',
    required: ['status_lists'],
    properties: { status_lists: { type: 'array', items: { type: 'string', format: 'uri' } } },
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
  Resource: {
    description: 'An API that tokens may be meant for (RFC 8707): its URI is the aud of those tokens, and it defines the scopes they may carry.',
    ...strictObject({ uri: { type: 'string' }, scopes: { type: 'array', items: { type: 'string' } }, created_at: TIMESTAMP, updated_at: TIMESTAMP }),
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
        description:
          'When the scheduled rotation is due (the current key has signed for KEY_ROTATION_INTERVAL and the next key has been published for KEY_PUBLISH_AHEAD); an instance makes it within seconds of this time.',
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
        description:
          'Who acted. type cli: the CLI; system: Gatehouse itself; client: a client with its own token (id = client id); user: a user (id = user id) through the client client_id.',
        required: ['type'],
        properties: {
          type: { enum: ['cli', 'system', 'client', 'user', 'unknown'] },
          id: { type: 'string' },
          client_id: { type: ['string', 'null'] },
          username: { type: 'string', description: 'The acting user, while the user exists.' },
        },
        additionalProperties: false,
      },
      action: { enum: [...AUDIT_ACTIONS] },
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

export function listOf(item: string): Schema {
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

export const queryParameter = (name: string, description: string, schema: Schema = { type: 'string' }): Schema => ({
  name,
  in: 'query',
  required: false,
  description,
  schema,
});
export const PAGE_PARAMETERS = [
  queryParameter('limit', `Page size, 1 to ${MAX_PAGE_SIZE} (default ${DEFAULT_PAGE_SIZE}).`, {
    type: 'integer',
    minimum: 1,
    maximum: MAX_PAGE_SIZE,
    default: DEFAULT_PAGE_SIZE,
  }),
  queryParameter('cursor', 'The next_cursor of the previous page.'),
];
export const ID_PARAMETER = (description: string): Schema => ({ name: 'id', in: 'path', required: true, description, schema: { type: 'string' } });

export const RESOURCE_URI_PARAMETER: Schema = {
  name: 'uri',
  in: 'path',
  required: true,
  description: 'The resource URI, percent-encoded as one path segment (encodeURIComponent).',
  schema: { type: 'string' },
};

export const ERROR = ref('OAuthError');
export const BEARER_CHALLENGE = { 'WWW-Authenticate': { description: 'RFC 6750 §3 Bearer challenge.', schema: { type: 'string' } } };

export const NOT_FOUND = { '404': json(errorCodes(['not_found']), 'No such resource') };
export const CLIENT_SECURITY = [{ clientBasic: [] }, {}];
export const CLIENT_AUTH_TEXT =
  'Client authentication: `client_secret_basic` (HTTP Basic, id and secret form-urlencoded first, RFC 6749 §2.3.1), ' +
  '`client_secret_post` (client_id and client_secret in the body), `private_key_jwt` (client_assertion_type and client_assertion, RFC 7523) or, for public clients, `none` (client_id only). ' +
  'Two methods at once is invalid_request; none at all is invalid_client.';
export const INVALID_CLIENT = {
  ...json(errorCodes(['invalid_client']), 'invalid_client: client authentication failed or is missing'),
  headers: { 'WWW-Authenticate': { description: 'Basic challenge, when the client tried Basic.', schema: { type: 'string' } } },
};
export const NO_STORE = { 'Cache-Control': { description: 'no-store', schema: { type: 'string' } } };

export const RETRY_AFTER = { 'Retry-After': { description: 'Seconds to wait before trying again.', schema: { type: 'integer' } } };

/** A database (or Redis) fault a retry may cure: every endpoint that reads or writes them can give it. */
export const UNAVAILABLE = {
  '503': { ...json(errorCodes(['temporarily_unavailable']), 'temporarily_unavailable: the database (or Redis) cannot answer now'), headers: RETRY_AFTER },
};

/** The answers of the OAuth endpoints' form bodies and client authentication besides their own. */
export const CLIENT_ENDPOINT_ERRORS: Record<string, Schema> = {
  '401': INVALID_CLIENT,
  '413': json(ERROR, 'The body is larger than 16 KiB'),
  '429': {
    ...json(ERROR, 'Too many requests from this IP address: failed client authentications (and, at /token, RATE_LIMIT_PER_IP)'),
    headers: RETRY_AFTER,
  },
  ...UNAVAILABLE,
};

/** The answers every admin operation may give besides its success. */
export function adminErrors(extra: Record<string, Schema> = {}): Record<string, Schema> {
  return {
    '400': json(ERROR, 'invalid_request: a malformed body, query or cursor'),
    '401': {
      ...json(ERROR, 'invalid_token: missing, invalid, expired or revoked access token, or one meant for another API (aud)'),
      headers: BEARER_CHALLENGE,
    },
    '403': {
      ...json(errorCodes(['insufficient_scope']), 'insufficient_scope: the token lacks the scope of this operation, or an admin scope the change needs'),
      headers: BEARER_CHALLENGE,
    },
    '413': json(ERROR, 'The body is larger than 16 KiB'),
    '415': json(ERROR, 'The body is not application/json, or declares a charset other than UTF-8'),
    ...UNAVAILABLE,
    ...extra,
  };
}
