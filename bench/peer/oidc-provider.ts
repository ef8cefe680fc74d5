/**
 * The second peer: node-oidc-provider 9 (panva) with its in-memory adapter, in the smallest setup
 * that serves the bench's workloads:
 *   - client_credentials with `resource=` → RS256 JWT access tokens (resource indicators are how it
 *     issues JWTs),
 *   - introspection of its opaque client_credentials tokens (it refuses to introspect JWTs),
 *   - refresh_token with rotateRefreshToken: it only reaches refresh tokens through the interactive
 *     code flow, so grants and refresh tokens are seeded in-process through its models
 *     (`POST /bench/seed?count=N` answers N fresh refresh tokens, each its own grant),
 *   - JWKS.
 *
 * Env: PORT, PEER_CLIENT_ID, PEER_CLIENT_SECRET, PEER_INTROSPECTOR_ID, PEER_INTROSPECTOR_SECRET.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

export const PEER_RESOURCE = 'https://api.bench.example';
const port = Number(env('PORT'));
const issuer = `http://127.0.0.1:${port}`;
const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
const clientId = env('PEER_CLIENT_ID');

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: env('PEER_CLIENT_SECRET'),
      grant_types: ['client_credentials', 'refresh_token', 'authorization_code'],
      redirect_uris: ['https://client.bench.example/cb'],
      response_types: ['code'],
      scope: 'openid offline_access api',
    },
    {
      client_id: env('PEER_INTROSPECTOR_ID'),
      client_secret: env('PEER_INTROSPECTOR_SECRET'),
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      scope: 'api',
    },
  ],
  jwks: { keys: [{ ...jwk, kid: 'peer', alg: 'RS256', use: 'sig' }] },
  scopes: ['openid', 'offline_access', 'api'],
  rotateRefreshToken: true,
  // Gatehouse's lifetimes (ACCESS_TOKEN_TTL 15m, REFRESH_TOKEN_TTL 30d), which also quiets its notices.
  ttl: { AccessToken: 900, ClientCredentials: 900, Grant: 30 * 86_400, RefreshToken: 30 * 86_400, IdToken: 900 },
  findAccount: (_ctx: unknown, sub: string) => ({ accountId: sub, claims: () => ({ sub }) }),
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true, allowedPolicy: () => true },
    resourceIndicators: {
      enabled: true,
      // No `resource` → an opaque token (the one introspection takes); with it → an RS256 JWT.
      defaultResource: () => undefined,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx: unknown, resource: string) => {
        if (resource !== PEER_RESOURCE) throw new Error(`unknown resource ${resource}`);
        return { scope: 'api', audience: PEER_RESOURCE, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
      },
    },
  },
} as any);
provider.on('server_error', (_ctx: unknown, error: Error) => process.stderr.write(`[oidc-provider] ${error.stack}\n`));

/** N grants with one refresh token each, written through the provider's own models. */
async function seed(count: number): Promise<string[]> {
  const client = await provider.Client.find(clientId);
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    const accountId = randomUUID();
    const grant = new provider.Grant({ accountId, clientId });
    grant.addOIDCScope('offline_access');
    grant.addResourceScope(PEER_RESOURCE, 'api');
    const grantId = await grant.save();
    const refreshToken = new provider.RefreshToken({
      client,
      accountId,
      grantId,
      gty: 'authorization_code',
      authTime: Math.floor(Date.now() / 1000),
      scope: 'offline_access api',
      resource: PEER_RESOURCE,
      rotations: 0,
      iiat: Math.floor(Date.now() / 1000),
    } as any);
    tokens.push(await refreshToken.save());
  }
  return tokens;
}

const callback = provider.callback();
createServer((req, res) => {
  if (req.method === 'POST' && req.url?.startsWith('/bench/seed')) {
    const count = Number(new URL(req.url, issuer).searchParams.get('count') ?? 1);
    seed(count).then(
      (tokens) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(tokens));
      },
      (error: Error) => {
        res.statusCode = 500;
        res.end(error.stack);
      },
    );
    return;
  }
  callback(req, res);
}).listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
