import { TestClock } from './clock.js';
import { startTestServer, type TestServer } from './server.js';
import { createHash } from 'node:crypto';
import { makeProof, proofKey, type ProofKey } from './dpop.js';
import { passwordTokens, tokenRequest } from './token.js';

export const API_AUDIENCE = 'https://api.example.com';
const STATUS_LIST_TTL_SECONDS = 1;

type StartResourceServer = (options: { issuer: string; audience: string }) => Promise<{ url: string; close(): Promise<void> }>;

/**
 * The behaviour every example resource server must show against a real Gatehouse: 200 with the
 * scope, 403 insufficient_scope without it, 401 for no token, garbage, a foreign audience, a
 * tampered signature or an expired token; a DPoP-bound token only with a proof by its key (RFC 9449 §7);
 * and, following the status list, 401 to a revoked token within STATUS_LIST_TTL, without calling /introspect.
 */
export function describeResourceServer(name: string, start: StartResourceServer, options: { rejectsReplayedProofs?: boolean } = {}): void {
  describe(`${name} accepts Gatehouse access tokens and enforces scopes`, () => {
    let server: TestServer;
    let resourceServer: { url: string; close(): Promise<void> };
    let alice: { id: string; username: string; password: string };
    const web = { clientId: 'web', clientSecret: null as string | null };
    const other = { clientId: 'other-api', clientSecret: null as string | null };
    let expiredToken: string;

    beforeAll(async () => {
      // Start two hours back to issue a token that has expired by real time, then move to now.
      const clock = new TestClock(new Date(Date.now() - 2 * 3600 * 1000));
      server = await startTestServer({ clock, env: { STATUS_LIST_TTL: `${STATUS_LIST_TTL_SECONDS}s` } });
      web.clientSecret = (
        await server.createClient({ id: 'web', grantTypes: ['password', 'refresh_token'], scopes: ['read', 'write'], audience: API_AUDIENCE })
      ).clientSecret;
      other.clientSecret = (
        await server.createClient({ id: 'other-api', grantTypes: ['password'], scopes: ['read'], audience: 'https://other.example.com' })
      ).clientSecret;
      alice = await server.createUser({ username: 'alice', scopes: ['read', 'write'] });
      expiredToken = (await passwordTokens(server, web, alice, 'read')).access_token;
      clock.advance(2 * 3600);
      resourceServer = await start({ issuer: server.baseUrl, audience: API_AUDIENCE });
    });
    afterAll(async () => {
      await resourceServer?.close();
      await server?.close();
    });

    const get = (token?: string, method = 'GET') =>
      fetch(`${resourceServer.url}/documents`, { method, headers: token === undefined ? {} : { Authorization: `Bearer ${token}` } });

    it('answers 200 to a token carrying the scope the route requires', async () => {
      const { access_token } = await passwordTokens(server, web, alice, 'read');
      const response = await get(access_token);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ sub: alice.id, username: 'alice', scope: 'read', documents: [] });
    });

    it('answers 403 insufficient_scope with a Bearer challenge naming the scope when it is missing', async () => {
      const { access_token } = await passwordTokens(server, web, alice, 'write');
      const response = await get(access_token);
      expect(response.status).toBe(403);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer .*error="insufficient_scope".*scope="read"/);
      expect(await response.json()).toMatchObject({ error: 'insufficient_scope' });
      expect((await get(access_token, 'POST')).status).toBe(201);
    });

    it('answers 401 with a Bearer challenge without a token, and to garbage', async () => {
      const none = await get();
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
      // JSON, as every error of the API: a client parses one shape.
      expect(none.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await none.json()).toMatchObject({ error: expect.any(String), error_description: expect.any(String) });
      const garbage = await get('not-a-token');
      expect(garbage.status).toBe(401);
      expect(garbage.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    });

    it('answers 401 to a token for another audience, a tampered token and an expired token', async () => {
      const foreign = (await passwordTokens(server, other, alice, 'read')).access_token;
      expect((await get(foreign)).status).toBe(401);
      const good = (await passwordTokens(server, web, alice, 'read')).access_token;
      const [header, payload] = good.split('.') as [string, string];
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
      const widened = Buffer.from(JSON.stringify({ ...claims, scope: 'read write admin' })).toString('base64url');
      expect((await get(`${header}.${widened}.${good.split('.')[2]}`)).status).toBe(401);
      expect((await get(expiredToken)).status).toBe(401);
    });

    it('answers 401 to a revoked token within STATUS_LIST_TTL, without any call to /introspect, and 200 to the others', async () => {
      const introspections = async () =>
        (await server.deps.metrics.httpRequestDuration.get()).values
          .filter((sample) => sample.labels.route === '/introspect' && sample.metricName?.endsWith('_count'))
          .reduce((sum, sample) => sum + sample.value, 0);
      const before = await introspections();
      const revoked = await passwordTokens(server, web, alice, 'read');
      const kept = await passwordTokens(server, web, alice, 'read');
      // The resource server now holds the list (cached for its ttl).
      expect((await get(revoked.access_token)).status).toBe(200);
      const revocation = await server.http
        .post('/revoke')
        .auth('web', web.clientSecret as string)
        .type('form')
        .send({ token: revoked.refresh_token as string });
      expect(revocation.status).toBe(200);
      const revokedAt = Date.now();
      // Asked again until it is refused: it must be, once the cached list is older than the ttl.
      let response = await get(revoked.access_token);
      while (response.status === 200 && Date.now() - revokedAt < 10 * STATUS_LIST_TTL_SECONDS * 1000) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        response = await get(revoked.access_token);
      }
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
      expect((await get(kept.access_token)).status).toBe(200);
      expect(await introspections()).toBe(before);
    });

    describe('DPoP-bound tokens (RFC 9449 §7)', () => {
      let key: ProofKey;
      let thief: ProofKey;
      let boundToken: string;
      const ath = (token: string): string => createHash('sha256').update(token).digest('base64url');
      const proofFor = (by: ProofKey, token: string, options: { htm?: string; htu?: string; iat?: number } = {}) =>
        makeProof(by, {
          htu: options.htu ?? `${resourceServer.url}/documents`,
          htm: options.htm ?? 'GET',
          ...(options.iat === undefined ? {} : { iat: options.iat }),
          claims: { ath: ath(token) },
        });
      const call = (authorization: string, proof?: string) =>
        fetch(`${resourceServer.url}/documents`, { headers: { Authorization: authorization, ...(proof === undefined ? {} : { DPoP: proof }) } });

      beforeAll(async () => {
        [key, thief] = await Promise.all([proofKey(), proofKey()]);
        const form = { grant_type: 'password', username: alice.username, password: alice.password, scope: 'read' };
        const request = tokenRequest(
          form,
          { basic: ['web', web.clientSecret as string] },
          {
            // Gatehouse runs on the test's clock here: the proof is made at its time.
            DPoP: await makeProof(key, { htu: `${server.baseUrl}/token`, iat: Math.floor(server.clock.now().getTime() / 1000) }),
          },
        );
        const response = await server.http.post('/token').set(request.headers).send(request.body);
        expect(response.body.token_type).toBe('DPoP');
        boundToken = response.body.access_token as string;
      });

      it('answers 200 to Authorization: DPoP with a proof by the bound key for this request', async () => {
        const response = await call(`DPoP ${boundToken}`, await proofFor(key, boundToken));
        const body = (await response.json()) as Record<string, unknown>;
        expect({ status: response.status, body }).toMatchObject({ status: 200, body: { sub: alice.id, scope: 'read' } });
      });

      it('answers 401 to a stolen bound token: as Bearer, without a proof, with a proof by another key, for another request, or made two minutes ago', async () => {
        // 400 invalid_request is what RFC 6750 §3.1 gives a DPoP request without its proof; every
        // other refusal is 401 (RFC 9449 §7.1), a proof that fails a check included.
        const attempts: [Promise<Response>, number[]][] = [
          [call(`Bearer ${boundToken}`), [401]],
          [call(`DPoP ${boundToken}`), [400, 401]],
          [call(`DPoP ${boundToken}`, await proofFor(thief, boundToken)), [401]],
          [call(`DPoP ${boundToken}`, await proofFor(key, boundToken, { htm: 'POST' })), [401]],
          [call(`DPoP ${boundToken}`, await proofFor(key, boundToken, { htu: `${resourceServer.url}/elsewhere` })), [401]],
          [call(`DPoP ${boundToken}`, await proofFor(key, 'another token')), [401]],
          // docs/resource-servers.md: a proof is recent, a minute or so (the resource server's own clock).
          [call(`DPoP ${boundToken}`, await proofFor(key, boundToken, { iat: Math.floor(Date.now() / 1000) - 120 })), [401]],
        ];
        for (const [index, [answer, statuses]] of attempts.entries()) {
          const response = await answer;
          expect({ index, status: statuses.includes(response.status) ? statuses : response.status }).toEqual({ index, status: statuses });
          expect(response.headers.get('www-authenticate')).toMatch(/\bDPoP\b/);
        }
      });

      if (options.rejectsReplayedProofs) {
        it('answers 401 to a proof used before (RFC 9449 §11.1)', async () => {
          const proof = await proofFor(key, boundToken);
          expect((await call(`DPoP ${boundToken}`, proof)).status).toBe(200);
          expect((await call(`DPoP ${boundToken}`, proof)).status).toBe(401);
        });
      }
    });
  });
}
