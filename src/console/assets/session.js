// The console's session: a public client of Gatehouse itself (gatehouse-console). It signs in with
// the password grant and keeps the access token and the refresh token in this object only: never
// in localStorage, sessionStorage or a cookie, so closing or reloading the page forgets them.

export const CLIENT_ID = 'gatehouse-console';

/** Refresh once this share of the access token's lifetime has passed. */
const REFRESH_AT_SHARE_OF_LIFETIME = 0.8;

/** An answer of the admin API or the token endpoint that was not a success. */
export class ApiError extends Error {
  constructor(status, error, description) {
    super(description || error || `the server answered ${status}`);
    this.status = status;
    this.error = error;
  }
}

/** The refresh token no longer works (revoked, expired, the user disabled): sign in again. */
export class SessionEnded extends Error {
  constructor(message = 'Your session has ended. Sign in again.') {
    super(message);
  }
}

/** Every URL is relative to the page: the console works at any host name and under a path prefix. */
function endpoint(path) {
  return new URL(path, document.baseURI);
}

function postForm(path, fields) {
  return fetch(endpoint(path), {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
    body: new URLSearchParams(fields),
    credentials: 'omit',
    cache: 'no-store',
  });
}

async function errorOf(response) {
  let body = {};
  try {
    body = await response.json();
  } catch {
    // not JSON: the status says enough
  }
  return new ApiError(response.status, body.error, body.error_description);
}

/** The claims of a JWT, read without checking it (the server checks it on every call). */
function claimsOf(jwt) {
  try {
    const payload = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(payload));
  } catch {
    return {};
  }
}

export class Session {
  #accessToken = null;
  #refreshToken = null;
  #refreshAt = 0;
  #refreshing = null;

  /** `onEnded(message)`: the session ended by itself (refresh refused); the page shows sign-in. */
  constructor(onEnded) {
    this.onEnded = onEnded;
    this.username = '';
    this.scopes = [];
    /** The grant (sid) of this console session, to mark it among a user's sessions. */
    this.grantId = null;
  }

  get signedIn() {
    return this.#accessToken !== null;
  }

  has(scope) {
    return this.scopes.includes(scope);
  }

  /**
   * The password grant without `scope`: Gatehouse grants the console client's admin scopes that
   * the user holds, or answers invalid_scope when the user holds none. Throws ApiError if refused.
   */
  async signIn(username, password) {
    const response = await postForm('token', { grant_type: 'password', client_id: CLIENT_ID, username, password });
    if (!response.ok) {
      const error = await errorOf(response);
      error.retryAfter = response.headers.get('Retry-After');
      throw error;
    }
    this.#accept(await response.json());
    this.username = username;
  }

  #accept(tokens) {
    const lifetime = Math.max(0, Number(tokens.expires_in) || 0) * 1000;
    this.#accessToken = tokens.access_token;
    this.#refreshToken = tokens.refresh_token ?? this.#refreshToken;
    this.#refreshAt = Date.now() + lifetime * REFRESH_AT_SHARE_OF_LIFETIME;
    this.scopes = String(tokens.scope ?? '')
      .split(' ')
      .filter((scope) => scope !== '');
    this.grantId = claimsOf(tokens.access_token).sid ?? null;
  }

  #forget() {
    this.#accessToken = null;
    this.#refreshToken = null;
    this.#refreshAt = 0;
    this.scopes = [];
    this.grantId = null;
  }

  /**
   * One refresh at a time: refresh tokens rotate, and presenting one twice is reuse, which ends
   * the whole session. Callers that need a refresh while one runs wait for it.
   */
  #refresh() {
    this.#refreshing ??= (async () => {
      try {
        if (this.#refreshToken === null) throw new SessionEnded();
        const response = await postForm('token', { grant_type: 'refresh_token', client_id: CLIENT_ID, refresh_token: this.#refreshToken });
        if (response.status === 400 || response.status === 401) {
          const error = await errorOf(response);
          this.#end(error.error === 'invalid_grant' ? undefined : `Your session has ended (${error.message}). Sign in again.`);
        }
        if (!response.ok) throw await errorOf(response);
        this.#accept(await response.json());
      } finally {
        this.#refreshing = null;
      }
    })();
    return this.#refreshing;
  }

  #end(message) {
    this.#forget();
    const ended = new SessionEnded(message);
    this.onEnded(ended.message);
    throw ended;
  }

  /**
   * An admin API call: JSON in, JSON out. Refreshes first when the access token nears its expiry,
   * and once more (then retries) when the API answers 401. Throws ApiError for other failures.
   */
  async api(method, path, body) {
    if (this.#refreshing) await this.#refreshing;
    if (!this.signedIn) throw new SessionEnded();
    if (Date.now() >= this.#refreshAt) await this.#refresh();
    const used = this.#accessToken;
    let response = await this.#call(method, path, body, used);
    if (response.status === 401 && this.signedIn) {
      // Another call may have refreshed meanwhile; refresh only if nobody did.
      if (this.#accessToken === used) await this.#refresh();
      else if (this.#refreshing) await this.#refreshing;
      response = await this.#call(method, path, body, this.#accessToken);
      if (response.status === 401) this.#end();
    }
    if (!response.ok) throw await errorOf(response);
    return response.status === 204 ? null : response.json();
  }

  #call(method, path, body, accessToken) {
    const headers = { Authorization: `Bearer ${accessToken}`, Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    return fetch(endpoint(path), { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'omit', cache: 'no-store' });
  }

  /**
   * Revokes the refresh token at /revoke (RFC 7009), which ends the whole session (its access
   * tokens too), and forgets both tokens whatever the answer. Returns whether the server took it.
   */
  async signOut() {
    // A refresh under way would hand back a successor: revoke the latest token (any one of the
    // family ends the whole grant anyway).
    if (this.#refreshing) await this.#refreshing.catch(() => undefined);
    const token = this.#refreshToken;
    this.#forget();
    this.username = '';
    if (token === null) return true;
    try {
      const response = await postForm('revoke', { token, token_type_hint: 'refresh_token', client_id: CLIENT_ID });
      return response.ok;
    } catch {
      return false;
    }
  }
}
