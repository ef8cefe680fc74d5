import { createLocalJWKSet, decodeJwt, jwtVerify, errors } from 'jose';
import { CLI_ACTOR } from '../../src/services/actor.js';
import { TestClock } from '../helpers/clock.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { KEY_RETENTION_LEEWAY } from '../../src/keys/policy.js';
import { fetchJwks, kidOf, kidsOf, tokenIssuer } from '../helpers/keys.js';
import { introspector } from '../helpers/token.js';

// Settings in production shape (hours and minutes); a TestClock moves through them.
const ROTATION_INTERVAL = 3600;
const PUBLISH_AHEAD = 600;
const ACCESS_TOKEN_TTL = 900;
const RETENTION = ACCESS_TOKEN_TTL + KEY_RETENTION_LEEWAY;
const env = { KEY_ROTATION_INTERVAL: `${ROTATION_INTERVAL}s`, KEY_PUBLISH_AHEAD: `${PUBLISH_AHEAD}s`, ACCESS_TOKEN_TTL: `${ACCESS_TOKEN_TTL}s` };

async function verifyAt(server: TestServer, token: string, when: Date): Promise<void> {
  const jwks = createLocalJWKSet(await fetchJwks(server));
  await jwtVerify(token, jwks, { issuer: server.baseUrl, currentDate: when, typ: 'at+jwt', algorithms: ['RS256'] });
}

// One server (one database) for the whole file: each behaviour below starts from the keys the
// previous one left, and moves the same clock forward.
const clock = new TestClock();
let server: TestServer;
let issue: () => Promise<string>;

beforeAll(async () => {
  server = await startTestServer({ clock, env });
  issue = await tokenIssuer(server);
});
afterAll(async () => {
  await server?.close();
});

/** Moves the clock to the moment the current key has signed for the rotation interval. */
function advanceToRotation(): void {
  const current = server.deps.keys.list().find((k) => k.state === 'current')!;
  const due = current.activatedAt!.getTime() + ROTATION_INTERVAL * 1000;
  clock.advance(Math.max(0, (due - clock.now().getTime()) / 1000));
}

describe('automatic rotation over five simulated hours: every unexpired token verifies against the JWKS, every key is published KEY_PUBLISH_AHEAD before it signs, and retired keys leave after ACCESS_TOKEN_TTL + leeway', () => {
  it('holds at every 5-minute step', async () => {
    const firstPublished = new Map<string, number>();
    const firstSigned = new Map<string, number>();
    const tokens: { token: string; kid: string; exp: number; iat: number }[] = [];
    const removedKids = new Set<string>();
    const start = clock.now().getTime();
    const initialKid = server.deps.keys.signingKey().kid;
    expect(
      server.deps.keys
        .list()
        .map((k) => k.state)
        .sort(),
    ).toEqual(['current', 'next']);

    for (let step = 0; step <= (5 * 3600) / 300; step++) {
      if (step > 0) {
        clock.advance(300);
        await server.deps.keys.tick();
      }
      const now = clock.now();
      const published = kidsOf(await fetchJwks(server));
      for (const kid of published) if (!firstPublished.has(kid)) firstPublished.set(kid, now.getTime());

      const token = await issue();
      const kid = kidOf(token);
      if (!firstSigned.has(kid)) firstSigned.set(kid, now.getTime());
      const { exp, iat } = decodeJwt(token) as { exp: number; iat: number };
      tokens.push({ token, kid, exp, iat });

      // Every token that has not expired verifies against what the JWKS publishes now.
      for (const t of tokens.filter((x) => x.exp * 1000 > now.getTime())) await verifyAt(server, t.token, now);

      // Every retired key past its retention is gone from the JWKS and from the table.
      for (const key of server.deps.keys.list()) expect(key.state === 'retired' && key.removeAfter! <= now).toBe(false);
      for (const signed of firstSigned.keys()) if (!published.includes(signed)) removedKids.add(signed);
    }

    // Five hours at one rotation an hour: the first key plus five successors signed.
    expect(firstSigned.size).toBe(6);
    // Each key but the very first was in the JWKS at least KEY_PUBLISH_AHEAD before its first token.
    for (const [kid, signedAt] of firstSigned) {
      if (kid === initialKid) continue;
      expect({ kid, publishedAhead: (signedAt - firstPublished.get(kid)!) / 1000 >= PUBLISH_AHEAD }).toEqual({ kid, publishedAhead: true });
    }
    // Keys retired more than the retention ago were removed; their tokens no longer verify at all,
    // not even at a time when they had not yet expired.
    expect(removedKids.size).toBeGreaterThanOrEqual(4);
    for (const t of tokens.filter((x) => removedKids.has(x.kid))) {
      await expect(verifyAt(server, t.token, new Date(t.iat * 1000))).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    }
    expect(clock.now().getTime() - start).toBe(5 * 3600 * 1000);
  });
});

describe('a retired key stays in the JWKS exactly until the last token it signed has expired (plus leeway)', () => {
  it('verifies the last token of the retired key until it expires, and removes the key after the retention', async () => {
    const oldKid = server.deps.keys.signingKey().kid;
    advanceToRotation();
    // The last token the old key signs, at the very moment it is due to rotate.
    const lastToken = await issue();
    expect(kidOf(lastToken)).toBe(oldKid);
    await server.deps.keys.tick();
    expect(server.deps.keys.signingKey().kid).not.toBe(oldKid);
    expect(kidOf(await issue())).not.toBe(oldKid);

    clock.advance(ACCESS_TOKEN_TTL - 1);
    await server.deps.keys.tick();
    await verifyAt(server, lastToken, clock.now());

    clock.advance(RETENTION - ACCESS_TOKEN_TTL);
    await server.deps.keys.tick();
    expect(kidsOf(await fetchJwks(server))).toContain(oldKid);

    clock.advance(1);
    await server.deps.keys.tick();
    expect(kidsOf(await fetchJwks(server))).not.toContain(oldKid);
    expect(server.deps.keys.list().map((k) => k.kid)).not.toContain(oldKid);
    await expect(verifyAt(server, lastToken, new Date((decodeJwt(lastToken).iat as number) * 1000))).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
  });
});

describe('on-demand rotation promotes the published next key at once', () => {
  it('signs with the former next key, keeps the old key published, and publishes a new next', async () => {
    const before = kidsOf(await fetchJwks(server));
    const oldKid = server.deps.keys.signingKey().kid;
    const oldToken = await issue();
    const nextKid = server.deps.keys.list().find((k) => k.state === 'next')!.kid;

    const result = await server.deps.keys.rotateNow({ actor: CLI_ACTOR });
    expect(result).toEqual({ current: nextKid, next: expect.any(String), rotated: true });
    expect(kidOf(await issue())).toBe(nextKid);
    const after = kidsOf(await fetchJwks(server));
    expect(before).toEqual(expect.arrayContaining([oldKid, nextKid]));
    expect(before).not.toContain(result.next);
    expect(after).toEqual([...before, result.next].sort());
    await verifyAt(server, oldToken, clock.now());
  });
});

describe('rotate --revoke-old (key compromise): the old key leaves the JWKS at once', () => {
  it('drops the old kid from the JWKS and the verification keys without moving the clock', async () => {
    const oldKid = server.deps.keys.signingKey().kid;
    const oldToken = await issue();
    await verifyAt(server, oldToken, clock.now());
    // Introspected (and so remembered as verified) before the key goes: inactive at once after.
    const ask = await introspector(server, 'revoke-old-introspector');
    expect((await ask(oldToken)).body.active).toBe(true);

    const result = await server.deps.keys.rotateNow({ revokeOld: true, actor: CLI_ACTOR });
    expect((await ask(oldToken)).body).toEqual({ active: false });

    expect(kidsOf(await fetchJwks(server))).not.toContain(oldKid);
    expect(server.deps.keys.list().map((k) => k.kid)).not.toContain(oldKid);
    await expect(verifyAt(server, oldToken, clock.now())).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    // Nor does the instance itself verify with it any more.
    expect(server.deps.keys.keyFor(oldKid)).toBeUndefined();
    const fresh = await issue();
    expect(kidOf(fresh)).toBe(result.current);
    await verifyAt(server, fresh, clock.now());
  });
});

describe('JWKS HTTP caching: Cache-Control public with max-age at most KEY_PUBLISH_AHEAD/2, a strong ETag, 304 on If-None-Match', () => {
  it('answers with public caching bounded by the publish-ahead time and a strong ETag', async () => {
    const response = await server.http.get('/.well-known/jwks.json');
    expect(response.status).toBe(200);
    const match = /^public, max-age=(\d+)$/.exec(response.headers['cache-control'] as string);
    expect(match).not.toBeNull();
    const maxAge = Number(match![1]);
    expect(maxAge).toBeGreaterThan(0);
    expect(maxAge).toBeLessThanOrEqual(PUBLISH_AHEAD / 2);
    expect(response.headers.etag).toMatch(/^"[^"]+"$/);
    expect(response.headers['content-type']).toMatch(/^application\/jwk-set\+json/);
    for (const key of JSON.parse(response.text).keys) {
      expect(Object.keys(key).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    }
  });

  it('answers 304 without a body to a matching If-None-Match (strong, weak, in a list, or *)', async () => {
    const { headers } = await server.http.get('/.well-known/jwks.json');
    const etag = headers.etag as string;
    for (const value of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const response = await server.http.get('/.well-known/jwks.json').set('If-None-Match', value);
      expect({ value, status: response.status, text: response.text ?? '' }).toEqual({ value, status: 304, text: '' });
      expect(response.headers.etag).toBe(etag);
      expect(response.headers['cache-control']).toMatch(/^public, max-age=\d+$/);
    }
    const other = await server.http.get('/.well-known/jwks.json').set('If-None-Match', '"something-else"');
    expect(other.status).toBe(200);
  });

  it('changes the ETag when the key set changes, so a cached copy is replaced', async () => {
    const { headers } = await server.http.get('/.well-known/jwks.json');
    await server.deps.keys.rotateNow({ actor: CLI_ACTOR });
    const response = await server.http.get('/.well-known/jwks.json').set('If-None-Match', headers.etag as string);
    expect(response.status).toBe(200);
    expect(response.headers.etag).not.toBe(headers.etag);
  });
});
