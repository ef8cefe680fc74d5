/**
 * A client using openid-client (v6) against Gatehouse: RFC 8414 discovery, a password grant, a
 * refresh, introspection by a resource server (a confidential client of its own), revocation.
 *
 *   ISSUER=http://localhost:3000 CLIENT_ID=app CLIENT_SECRET=… \
 *   RESOURCE_SERVER_ID=api RESOURCE_SERVER_SECRET=… \
 *   GATEHOUSE_USERNAME=alice GATEHOUSE_PASSWORD=… SCOPE="read write" npx tsx examples/openid-client.ts
 */
import { pathToFileURL } from 'node:url';
import * as client from 'openid-client';

export interface OpenIdClientExampleOptions {
  /** Gatehouse's ISSUER, exactly; discovery checks that the metadata says the same. */
  issuer: string;
  /** A client allowed the password and refresh_token grants. */
  client: { id: string; secret: string };
  /** The resource server's own confidential client, which introspects. */
  resourceServer: { id: string; secret: string };
  username: string;
  password: string;
  scope?: string | undefined;
  /** Where each step is printed (console.log by default). */
  log?: (line: string) => void;
}

export interface OpenIdClientExampleResult {
  issuer: string;
  grantedScope: string | undefined;
  refreshedScope: string | undefined;
  /** The refreshed access token, as introspected before and after revoking its refresh token. */
  activeBeforeRevocation: boolean;
  activeAfterRevocation: boolean;
  refreshTokenActiveAfterRevocation: boolean;
}

/** RFC 8414 discovery (algorithm 'oauth2'); plain http is allowed only for a local http issuer. */
async function discover(issuer: string, id: string, secret: string): Promise<client.Configuration> {
  const url = new URL(issuer);
  return client.discovery(url, id, undefined, client.ClientSecretBasic(secret), {
    algorithm: 'oauth2',
    execute: url.protocol === 'http:' ? [client.allowInsecureRequests] : [],
  });
}

export async function runOpenIdClientExample(options: OpenIdClientExampleOptions): Promise<OpenIdClientExampleResult> {
  const log = options.log ?? ((line: string) => console.log(line));

  const app = await discover(options.issuer, options.client.id, options.client.secret);
  const metadata = app.serverMetadata();
  log(`discovered ${metadata.issuer}: token endpoint ${metadata.token_endpoint}, grant types ${metadata.grant_types_supported?.join(' ')}`);

  const parameters: Record<string, string> = { username: options.username, password: options.password };
  if (options.scope) parameters.scope = options.scope;
  const tokens = await client.genericGrantRequest(app, 'password', parameters);
  log(`password grant: scope "${tokens.scope}", expires in ${tokens.expiresIn()} s, refresh token ${tokens.refresh_token ? 'issued' : 'absent'}`);
  if (!tokens.refresh_token) throw new Error('the client may not refresh: give it the refresh_token grant');

  const refreshed = await client.refreshTokenGrant(app, tokens.refresh_token);
  log(`refreshed: new access token, refresh token rotated (${refreshed.refresh_token !== tokens.refresh_token ? 'yes' : 'no'})`);

  const resourceServer = await discover(options.issuer, options.resourceServer.id, options.resourceServer.secret);
  const before = await client.tokenIntrospection(resourceServer, refreshed.access_token);
  log(`introspected by ${options.resourceServer.id}: active=${before.active} sub=${before.sub} scope="${before.scope}"`);

  await client.tokenRevocation(app, refreshed.refresh_token as string, { token_type_hint: 'refresh_token' });
  log('revoked the refresh token: its whole grant ends');

  const after = await client.tokenIntrospection(resourceServer, refreshed.access_token);
  const refreshAfter = await client.tokenIntrospection(resourceServer, refreshed.refresh_token as string, { token_type_hint: 'refresh_token' });
  log(`introspected again: access token active=${after.active}, refresh token active=${refreshAfter.active}`);

  return {
    issuer: metadata.issuer,
    grantedScope: tokens.scope,
    refreshedScope: refreshed.scope,
    activeBeforeRevocation: before.active,
    activeAfterRevocation: after.active,
    refreshTokenActiveAfterRevocation: refreshAfter.active,
  };
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`set ${name}`);
  return value;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runOpenIdClientExample({
    issuer: process.env.ISSUER ?? 'http://localhost:3000',
    client: { id: required('CLIENT_ID'), secret: required('CLIENT_SECRET') },
    resourceServer: { id: required('RESOURCE_SERVER_ID'), secret: required('RESOURCE_SERVER_SECRET') },
    username: required('GATEHOUSE_USERNAME'),
    password: required('GATEHOUSE_PASSWORD'),
    scope: process.env.SCOPE,
  });
}
