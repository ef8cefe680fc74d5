/**
 * Every error a client may see. The `error` string is the stable discriminant (RFC 6749 §5.2,
 * RFC 6750 §3.1, RFC 7009 §2.2.1); `description` is safe to show; internal detail goes in `cause`.
 */
export class OAuthError extends Error {
  readonly expose = true;
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
    readonly headers: Record<string, string> = {},
    options?: { cause?: unknown },
  ) {
    super(description, options);
    this.name = new.target.name;
  }

  toJSON(): { error: string; error_description: string } {
    return { error: this.error, error_description: this.description };
  }
}

export class InvalidRequest extends OAuthError {
  constructor(description: string, status = 400) {
    super(status, 'invalid_request', description);
  }
}

export class InvalidClient extends OAuthError {
  /** `basicTried`: RFC 6749 §5.2 asks for a Basic challenge when the client used Basic. */
  constructor(description = 'client authentication failed', basicTried = false) {
    super(401, 'invalid_client', description, basicTried ? { 'WWW-Authenticate': 'Basic realm="gatehouse", charset="UTF-8"' } : {});
  }
}

export class InvalidGrant extends OAuthError {
  constructor(description: string, options?: { cause?: unknown }) {
    super(400, 'invalid_grant', description, {}, options);
  }
}

export class UnauthorizedClient extends OAuthError {
  constructor(description: string) {
    super(400, 'unauthorized_client', description);
  }
}

export class UnsupportedGrantType extends OAuthError {
  constructor(description: string) {
    super(400, 'unsupported_grant_type', description);
  }
}

export class InvalidScope extends OAuthError {
  constructor(description: string) {
    super(400, 'invalid_scope', description);
  }
}

/** RFC 8707 §2: a resource the client may not ask for, or one outside the grant being refreshed. */
export class InvalidTarget extends OAuthError {
  constructor(description: string) {
    super(400, 'invalid_target', description);
  }
}

/** RFC 9449 §4.3: the DPoP proof is missing a piece, malformed, or does not fit the request. */
export class InvalidDpopProof extends OAuthError {
  constructor(description: string, options?: { cause?: unknown }) {
    super(400, 'invalid_dpop_proof', description, {}, options);
  }
}

/**
 * RFC 9449 §8: the authorization server wants a (fresh) server nonce in the proof. A token endpoint
 * answers 400 with the nonce in `DPoP-Nonce`, and no `WWW-Authenticate` (that challenge, with 401,
 * is how a resource server says it, §9).
 */
export class UseDpopNonce extends OAuthError {
  constructor(nonce: string, description = 'the authorization server requires a nonce in the DPoP proof') {
    super(400, 'use_dpop_nonce', description, { 'DPoP-Nonce': nonce });
  }
}

export class InvalidToken extends OAuthError {
  constructor(description = 'the access token is missing, invalid, expired or revoked') {
    super(401, 'invalid_token', description, {
      'WWW-Authenticate': `Bearer realm="gatehouse", error="invalid_token", error_description="${description}"`,
    });
  }
}

/** RFC 6750 §3.1: a missing token gets a bare challenge, without an error code. */
export class MissingToken extends OAuthError {
  constructor(description = 'an access token is required') {
    super(401, 'invalid_token', description, { 'WWW-Authenticate': 'Bearer realm="gatehouse"' });
  }
}

export class InsufficientScope extends OAuthError {
  constructor(scope: string, description = `this requires the scope ${scope}`) {
    super(403, 'insufficient_scope', description, {
      'WWW-Authenticate': `Bearer realm="gatehouse", error="insufficient_scope", scope="${scope}"`,
    });
  }
}

export class NotFound extends OAuthError {
  constructor(description = 'not found') {
    super(404, 'not_found', description);
  }
}

/** RFC 9110 §15.5.6: the methods the path does answer go in `Allow` (empty when it answers none). */
export class MethodNotAllowed extends OAuthError {
  constructor(method: string, allowed: readonly string[]) {
    super(405, 'method_not_allowed', `the method ${method} is not allowed here`, { Allow: allowed.join(', ') });
  }
}

export class Conflict extends OAuthError {
  constructor(description: string) {
    super(409, 'conflict', description);
  }
}

export class PayloadTooLarge extends OAuthError {
  constructor() {
    super(413, 'invalid_request', 'the request body is too large');
  }
}

export class UnsupportedMediaType extends OAuthError {
  constructor(expected: string) {
    super(415, 'invalid_request', `the request body must be ${expected}`);
  }
}

/** Rate limit or login lock; the client should wait Retry-After seconds. */
export class TooManyRequests extends OAuthError {
  constructor(retryAfterSeconds: number, description = 'too many requests; try again later') {
    super(429, 'too_many_requests', description, { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) });
  }
}

export class TemporarilyUnavailable extends OAuthError {
  constructor(retryAfterSeconds = 5, options?: { cause?: unknown }) {
    super(503, 'temporarily_unavailable', 'the service is temporarily unavailable; try again shortly', { 'Retry-After': String(retryAfterSeconds) }, options);
  }
}

/** For the CLI and services: a domain rule broken by input, shown as one line. */
export class ValidationError extends OAuthError {
  constructor(description: string) {
    super(400, 'invalid_request', description);
  }
}
