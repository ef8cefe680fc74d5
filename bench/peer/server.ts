/**
 * The peer: @node-oauth/oauth2-server (v5) in a minimal Koa app with a knex model on the same
 * PostgreSQL database as Gatehouse (its own peer_* tables), the same argon2id parameters, RS256 JWT
 * access tokens signed with node:crypto (2048-bit key, as Gatehouse), refresh tokens stored as
 * SHA-256 and rotated on every use (the library's default alwaysIssueNewRefreshToken). It has no
 * reuse detection, no audit, no lockout: it does less per request than Gatehouse.
 *
 * Env: PORT, DATABASE_URL, WEB_CONCURRENCY, PEER_CLIENT_ID, PEER_CLIENT_SECRET, PEER_USERNAME, PEER_PASSWORD.
 */
import cluster from 'node:cluster';
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import argon2 from 'argon2';
import knexFactory, { type Knex } from 'knex';
import Koa from 'koa';
import OAuth2Server from '@node-oauth/oauth2-server';

const ARGON2 = { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;
const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');
const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

function openDb(): Knex {
  return knexFactory({ client: 'pg', connection: env('DATABASE_URL'), pool: { min: 0, max: 10 } });
}

async function prepare(): Promise<void> {
  const db = openDb();
  await db.raw(`
    CREATE TABLE IF NOT EXISTS peer_clients (id text PRIMARY KEY, secret_hash text NOT NULL, grants text[] NOT NULL);
    CREATE TABLE IF NOT EXISTS peer_users (id uuid PRIMARY KEY, username text UNIQUE NOT NULL, password_hash text NOT NULL);
    CREATE TABLE IF NOT EXISTS peer_tokens (refresh_token_hash text PRIMARY KEY, refresh_expires_at timestamptz NOT NULL,
      access_expires_at timestamptz NOT NULL, scope text[], client_id text NOT NULL REFERENCES peer_clients(id), user_id uuid NOT NULL REFERENCES peer_users(id));`);
  await db('peer_clients')
    .insert({ id: env('PEER_CLIENT_ID'), secret_hash: sha256(env('PEER_CLIENT_SECRET')), grants: ['password', 'refresh_token'] })
    .onConflict('id')
    .ignore();
  await db('peer_users')
    .insert({ id: randomUUID(), username: env('PEER_USERNAME'), password_hash: await argon2.hash(env('PEER_PASSWORD'), ARGON2) })
    .onConflict('username')
    .ignore();
  await db.destroy();
}

function serve(privatePem: string): void {
  const db = openDb();
  const key = createPrivateKey(privatePem);
  const b64 = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const model = {
    async getClient(clientId: string, clientSecret: string) {
      const row = await db('peer_clients').where({ id: clientId }).first();
      if (!row || (clientSecret !== undefined && sha256(clientSecret) !== row.secret_hash)) return false;
      return { id: row.id, grants: row.grants };
    },
    async getUser(username: string, password: string) {
      const row = await db('peer_users').where({ username }).first();
      if (!row || !(await argon2.verify(row.password_hash, password))) return false;
      return { id: row.id, username: row.username };
    },
    async generateAccessToken(client: { id: string }, user: { id: string }, scope: string[] | undefined) {
      const now = Math.floor(Date.now() / 1000);
      const input = `${b64({ alg: 'RS256', typ: 'at+jwt', kid: 'peer' })}.${b64({ iss: 'http://peer', sub: user.id, aud: 'http://peer', exp: now + 900, iat: now, jti: randomUUID(), client_id: client.id, scope: (scope ?? []).join(' ') })}`;
      return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
    },
    async generateRefreshToken() {
      return randomBytes(32).toString('base64url');
    },
    async validateScope(_user: unknown, _client: unknown, scope: string[] | undefined) {
      return scope ?? ['api'];
    },
    async saveToken(token: any, client: { id: string }, user: { id: string }) {
      await db('peer_tokens').insert({
        refresh_token_hash: sha256(token.refreshToken),
        refresh_expires_at: token.refreshTokenExpiresAt,
        access_expires_at: token.accessTokenExpiresAt,
        scope: token.scope ?? null,
        client_id: client.id,
        user_id: user.id,
      });
      return { ...token, client, user };
    },
    async getRefreshToken(refreshToken: string) {
      const row = await db('peer_tokens')
        .where({ refresh_token_hash: sha256(refreshToken) })
        .first();
      if (!row) return false;
      return {
        refreshToken,
        refreshTokenExpiresAt: row.refresh_expires_at,
        scope: row.scope ?? undefined,
        client: { id: row.client_id },
        user: { id: row.user_id },
      };
    },
    async revokeToken(token: { refreshToken: string }) {
      return (
        (await db('peer_tokens')
          .where({ refresh_token_hash: sha256(token.refreshToken) })
          .delete()) === 1
      );
    },
    async getAccessToken() {
      return false;
    },
  };
  const oauth = new OAuth2Server({ model: model as any, accessTokenLifetime: 900, refreshTokenLifetime: 30 * 86_400 });
  const app = new Koa();
  app.use(async (ctx) => {
    if (ctx.method !== 'POST' || ctx.path !== '/token') {
      ctx.status = 404;
      return;
    }
    let raw = '';
    for await (const chunk of ctx.req) raw += chunk;
    const request = new OAuth2Server.Request({
      method: ctx.method,
      query: {},
      headers: ctx.headers as Record<string, string>,
      body: Object.fromEntries(new URLSearchParams(raw)),
    });
    const response = new OAuth2Server.Response({ headers: {} });
    try {
      await oauth.token(request, response);
    } catch {
      // the library has put the error on the response
    }
    ctx.status = response.status ?? 500;
    ctx.set(response.headers as Record<string, string>);
    ctx.body = response.body;
  });
  app.listen(Number(env('PORT')), '127.0.0.1');
  process.on('SIGTERM', () => process.exit(0));
}

const workers = Number(process.env.WEB_CONCURRENCY ?? 1);
if (cluster.isPrimary) {
  const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  await prepare();
  if (workers > 1) {
    for (let i = 0; i < workers; i++) cluster.fork({ PEER_KEY: pem });
    process.on('SIGTERM', () => {
      for (const worker of Object.values(cluster.workers ?? {})) worker?.kill('SIGTERM');
      process.exit(0);
    });
  } else {
    serve(pem);
  }
} else {
  serve(env('PEER_KEY'));
}
