import type { TestServer } from './server.js';
import { basicAuth } from './server.js';

export interface TokenBody {
  access_token: string;
  refresh_token?: string;
  scope: string;
  expires_in: number;
  token_type: string;
}

/** A password grant that must succeed. */
export async function passwordTokens(
  server: TestServer,
  client: { clientId: string; clientSecret: string | null },
  user: { username: string; password: string },
  scope?: string,
): Promise<TokenBody> {
  const form: Record<string, string> = { grant_type: 'password', username: user.username, password: user.password };
  if (scope) form.scope = scope;
  const request = server.http.post('/token').type('form');
  if (client.clientSecret) request.set('Authorization', basicAuth(client.clientId, client.clientSecret));
  else form.client_id = client.clientId;
  const response = await request.send(form);
  if (response.status !== 200) throw new Error(`password grant failed: ${response.status} ${response.text}`);
  return response.body as TokenBody;
}

export function refresh(server: TestServer, client: { clientId: string; clientSecret: string | null }, refreshToken: string) {
  const request = server.http.post('/token').type('form');
  const form: Record<string, string> = { grant_type: 'refresh_token', refresh_token: refreshToken };
  if (client.clientSecret) request.set('Authorization', basicAuth(client.clientId, client.clientSecret));
  else form.client_id = client.clientId;
  return request.send(form);
}

/** A confidential client that may introspect, and a helper that asks about a token. */
export async function introspector(server: TestServer, id = 'resource-server') {
  const client = await server.createClient({ id, grantTypes: ['client_credentials'], scopes: ['introspect'] });
  return (token: string, hint?: string) =>
    server.http
      .post('/introspect')
      .set('Authorization', basicAuth(client.clientId, client.clientSecret as string))
      .type('form')
      .send(hint ? { token, token_type_hint: hint } : { token });
}

/** An admin client holding `scopes`, and a client_credentials access token for it. */
export async function adminToken(server: TestServer, scopes: string[], id = `admin-${scopes.join('-').replace(/:/g, '_')}`): Promise<string> {
  const client = await server.createClient({ id, grantTypes: ['client_credentials'], scopes });
  const response = await server.http
    .post('/token')
    .set('Authorization', basicAuth(client.clientId, client.clientSecret as string))
    .type('form')
    .send({ grant_type: 'client_credentials' });
  if (response.status !== 200) throw new Error(`admin token failed: ${response.text}`);
  return response.body.access_token as string;
}
