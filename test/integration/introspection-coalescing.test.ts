import { randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import { createAccessTokenStanding } from '../../src/services/access-token-standing.js';
import { createTestDatabase } from '../helpers/database.js';
import { basicAuth, startTestServer, type TestServer } from '../helpers/server.js';
import { adminToken, clientCredentialsToken, passwordTokens } from '../helpers/token.js';

/**
 * Concurrent introspections share one statement (services/access-token-standing.ts). Each must still
 * get its own token's answer, and a revocation committed before a request arrived must show in it.
 */
describe('concurrent introspections are looked up together, each answered exactly', () => {
  let server: TestServer;
  let introspect: (token: string) => Promise<{ active: boolean; jti?: string }>;
  let rootAuth: string;
  let web: { clientId: string; clientSecret: string | null };

  beforeAll(async () => {
    server = await startTestServer();
    rootAuth = `Bearer ${await adminToken(server, ['admin:tokens'], 'root-admin')}`;
    const resourceServer = await server.createClient({ id: 'resource-server', grantTypes: ['client_credentials'], scopes: ['introspect'] });
    const authorization = basicAuth(resourceServer.clientId, resourceServer.clientSecret as string);
    // Real sockets, so that the requests really are in flight together.
    introspect = async (token) => {
      const response = await fetch(`${server.baseUrl}/introspect`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
      });
      expect(response.status).toBe(200);
      return (await response.json()) as { active: boolean; jti?: string };
    };
    web = await server.createClient({ id: 'web', grantTypes: ['password', 'client_credentials'], scopes: ['read'] });
  });
  afterAll(() => server.close());

  it('answers 60 introspections at once, live and revoked tokens of users and clients mixed, each for its own token', async () => {
    const user = await server.createUser({ username: 'mia', scopes: ['read'] });
    const tokens: { token: string; live: boolean }[] = [];
    for (let i = 0; i < 20; i++) {
      tokens.push({ token: (await passwordTokens(server, web, user)).access_token, live: true });
      tokens.push({ token: await clientCredentialsToken(server, web), live: true });
    }
    // A third of them revoked by jti, before the requests.
    for (let i = 0; i < 20; i++) {
      const token = await clientCredentialsToken(server, web);
      await server.http
        .post('/admin/revocations')
        .set('Authorization', rootAuth)
        .send({ jti: decodeJwt(token).jti })
        .expect(200);
      tokens.push({ token, live: false });
    }
    const answers = await Promise.all(tokens.map(({ token }) => introspect(token)));
    answers.forEach((answer, index) => {
      expect(answer.active).toBe(tokens[index]!.live);
      if (answer.active) expect(answer.jti).toBe(decodeJwt(tokens[index]!.token).jti);
    });
  });

  it('sees a revocation committed while other lookups were under way in every request that arrived after it', async () => {
    const token = await clientCredentialsToken(server, web);
    let revoked = false;
    const afterRevocation: boolean[] = [];
    // Keep 20 introspections in flight while the revocation happens.
    const stream = async (): Promise<void> => {
      while (!revoked || afterRevocation.length < 40) {
        const sentAfterRevocation = revoked;
        const answer = await introspect(token);
        if (sentAfterRevocation) afterRevocation.push(answer.active);
      }
    };
    const streams = Array.from({ length: 20 }, stream);
    await server.http
      .post('/admin/revocations')
      .set('Authorization', rootAuth)
      .send({ jti: decodeJwt(token).jti })
      .expect(200);
    revoked = true;
    await Promise.all(streams);
    expect(afterRevocation.length).toBeGreaterThanOrEqual(40);
    expect(afterRevocation.every((active) => !active)).toBe(true);
  });
});

describe('the standing lookups of one pass of the event loop share one statement', () => {
  it('sends lookups made in separate callbacks of one pass as one statement, each answered', async () => {
    const database = await createTestDatabase();
    try {
      const standing = createAccessTokenStanding(database.db);
      const issuedAt = new Date();
      // No such client: every token is inactive, whatever else holds.
      const references = Array.from({ length: 6 }, () => ({ jti: randomUUID(), grantId: undefined, clientId: 'nobody', issuedAt, now: new Date() }));
      let statements = 0;
      const listener = (query: { sql: string }): void => {
        if (/revoked_access_tokens/.test(query.sql)) statements++;
      };
      database.db.on('query', listener);
      try {
        // Each lookup in its own callback, as introspection requests arrive in their own I/O callbacks.
        const lookups = await new Promise<Promise<boolean>[]>((resolve) => {
          const made: Promise<boolean>[] = [];
          for (const reference of references) {
            setImmediate(() => {
              made.push(standing.isLive(reference));
              if (made.length === references.length) resolve(made);
            });
          }
        });
        expect(await Promise.all(lookups)).toEqual(references.map(() => false));
      } finally {
        database.db.removeListener('query', listener);
      }
      expect(statements).toBe(1);
    } finally {
      await database.close();
    }
  });
});
