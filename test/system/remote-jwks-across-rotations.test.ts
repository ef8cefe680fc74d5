import { createRemoteJWKSet, jwtVerify } from 'jose';
import { keyRefreshIntervalMs } from '../../src/keys/policy.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { kidOf, tokenIssuer } from '../helpers/keys.js';

// Real time, short intervals: a key signs for 2 s and is published 1 s before it signs.
const ROTATION_INTERVAL_MS = 2000;
const PUBLISH_AHEAD_MS = 1000;
const ROTATIONS = 3;
/**
 * The loop ends as soon as it has seen ROTATIONS rotations (about ROTATIONS × the interval). This
 * only bounds the wait, so that a key timer that never rotates fails with the counts below.
 */
const ROTATIONS_WITHIN_MS = 90_000;

describe('a resource server caching the JWKS (jose createRemoteJWKSet, cache age = KEY_PUBLISH_AHEAD, no refetch on unknown kid) verifies every fresh token across several real rotations', () => {
  let server: TestServer;
  const timerErrors: unknown[] = [];

  beforeAll(async () => {
    server = await startTestServer({ env: { KEY_ROTATION_INTERVAL: `${ROTATION_INTERVAL_MS / 1000}s`, KEY_PUBLISH_AHEAD: `${PUBLISH_AHEAD_MS / 1000}s` } });
    // The server's own key timer, as main.ts starts it.
    server.deps.keys.start(keyRefreshIntervalMs(server.deps.config), (error) => timerErrors.push(error));
  });
  afterAll(async () => {
    await server?.deps.keys.stop();
    await server?.close();
  });

  it('has zero verification failures', async () => {
    // cooldownDuration far beyond the run: jose never refetches because a kid is unknown, so
    // success depends only on the key being published before it signs.
    const jwks = createRemoteJWKSet(new URL(`${server.baseUrl}/.well-known/jwks.json`), { cacheMaxAge: PUBLISH_AHEAD_MS, cooldownDuration: 10 * 60_000 });
    const issue = await tokenIssuer(server);
    const kids: string[] = [];
    const failures: string[] = [];
    let verified = 0;
    const deadline = Date.now() + ROTATIONS_WITHIN_MS;

    while (new Set(kids).size <= ROTATIONS && Date.now() < deadline) {
      const token = await issue();
      const kid = kidOf(token);
      if (kids.at(-1) !== kid) kids.push(kid);
      try {
        await jwtVerify(token, jwks, { issuer: server.baseUrl, typ: 'at+jwt', algorithms: ['RS256'] });
        verified += 1;
      } catch (error) {
        failures.push(`${kid}: ${(error as Error).message}`);
      }
      await new Promise((done) => setTimeout(done, 25));
    }

    expect(failures).toEqual([]);
    expect(timerErrors).toEqual([]);
    // Each kid signed in one stretch (a rotation never goes back), and there were enough of them.
    expect(new Set(kids).size).toBe(kids.length);
    expect(kids.length).toBeGreaterThan(ROTATIONS);
    expect(verified).toBeGreaterThan(kids.length);
  }, 120_000);
});
