import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { createClientKeysRegistry, JwksUnavailable, type ClientKeysRegistry } from '../../src/client-assertions/client-keys.js';
import { CLIENT_ASSERTION_TYPE, verifyClientAssertion } from '../../src/client-assertions/verify-client-assertion.js';
import { TestClock } from '../helpers/clock.js';

/** A client's key server on 127.0.0.1 that counts what it is asked and answers as each test says. */
interface KeyServer {
  uri: string;
  requests: number;
  respond: (request: IncomingMessage, response: ServerResponse) => void;
}

let server: Server;
let keyServer: KeyServer;

beforeAll(async () => {
  keyServer = { uri: '', requests: 0, respond: (_request, response) => response.end() };
  server = createServer((request, response) => {
    keyServer.requests++;
    keyServer.respond(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  keyServer.uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

interface ClientKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}
async function clientKey(kid: string): Promise<ClientKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'ES256' } };
}

/** Serves `keys` as the JWK Set, with the given Cache-Control, after `delayMs`. */
function serveKeys(keys: ClientKey[], options: { cacheControl?: string; delayMs?: number } = {}): void {
  keyServer.respond = (_request, response) => {
    const send = () => {
      response.setHeader('content-type', 'application/jwk-set+json');
      if (options.cacheControl) response.setHeader('cache-control', options.cacheControl);
      response.end(JSON.stringify({ keys: keys.map((key) => key.publicJwk) }));
    };
    if (options.delayMs) setTimeout(send, options.delayMs);
    else send();
  };
}

const ISSUER = 'https://as.example';
const CLIENT_ID = 'rolling-client';
async function assertion(key: ClientKey, clock: TestClock): Promise<string> {
  const now = Math.floor(clock.now().getTime() / 1000);
  return new SignJWT({ iss: CLIENT_ID, sub: CLIENT_ID, aud: ISSUER, exp: now + 60, jti: `${key.kid}-${now}-${Math.random()}` })
    .setProtectedHeader({ alg: 'ES256', kid: key.kid })
    .sign(key.privateKey);
}

function setUp(settings: Record<string, number> = {}): { clock: TestClock; registry: ClientKeysRegistry; failures: string[] } {
  keyServer.requests = 0;
  const clock = new TestClock(new Date('2026-11-29T10:00:00Z'));
  const failures: string[] = [];
  return { clock, registry: createClientKeysRegistry({ clock, settings, onFetchFailure: (_uri, problem) => failures.push(problem) }), failures };
}

async function verify(registry: ClientKeysRegistry, clock: TestClock, key: ClientKey) {
  return verifyClientAssertion(
    { assertionType: CLIENT_ASSERTION_TYPE, assertion: await assertion(key, clock) },
    {
      clientId: CLIENT_ID,
      keys: registry.keysFor({ type: 'jwks_uri', uri: keyServer.uri }),
      issuer: ISSUER,
      tokenEndpointUrl: `${ISSUER}/token`,
      now: clock.now(),
    },
  );
}

describe('a jwks_uri is fetched once and then served from memory for its max-age', () => {
  it('fetches on first use, not again while fresh, again once max-age has passed', async () => {
    const { clock, registry } = setUp();
    const key = await clientKey('k1');
    serveKeys([key], { cacheControl: 'max-age=120' });
    const keys = registry.keysFor({ type: 'jwks_uri', uri: keyServer.uri });
    expect(await keys.current()).toEqual([key.publicJwk]);
    clock.advance(119);
    await keys.current();
    await expect(verify(registry, clock, key)).resolves.toMatchObject({ valid: true });
    expect(keyServer.requests).toBe(1);
    clock.advance(2);
    await keys.current();
    expect(keyServer.requests).toBe(2);
  });

  it('bounds a max-age: one day counts as an hour; none counts as five minutes', async () => {
    const { clock, registry } = setUp();
    serveKeys([await clientKey('k1')], { cacheControl: 'max-age=86400' });
    const keys = registry.keysFor({ type: 'jwks_uri', uri: keyServer.uri });
    await keys.current();
    clock.advance(3599);
    await keys.current();
    expect(keyServer.requests).toBe(1);
    serveKeys([await clientKey('k1')]);
    clock.advance(2);
    await keys.current();
    expect(keyServer.requests).toBe(2);
    clock.advance(299);
    await keys.current();
    expect(keyServer.requests).toBe(2);
    clock.advance(2);
    await keys.current();
    expect(keyServer.requests).toBe(3);
  });

  it('shares one cache per URI between clients that name it', async () => {
    const { registry } = setUp();
    serveKeys([await clientKey('k1')]);
    await registry.keysFor({ type: 'jwks_uri', uri: keyServer.uri }).current();
    await registry.keysFor({ type: 'jwks_uri', uri: keyServer.uri }).current();
    expect(keyServer.requests).toBe(1);
  });
});

describe('an unknown kid fetches the set again (key rollover), at most once per refetch interval', () => {
  it('accepts an assertion signed with a key the client published since the set was fetched', async () => {
    const { clock, registry } = setUp();
    const old = await clientKey('2026-10');
    const next = await clientKey('2026-11');
    serveKeys([old], { cacheControl: 'max-age=3600' });
    await expect(verify(registry, clock, old)).resolves.toMatchObject({ valid: true });
    expect(keyServer.requests).toBe(1);

    serveKeys([old, next], { cacheControl: 'max-age=3600' });
    clock.advance(31);
    await expect(verify(registry, clock, next)).resolves.toMatchObject({ valid: true });
    expect(keyServer.requests).toBe(2);
    await expect(verify(registry, clock, next)).resolves.toMatchObject({ valid: true });
    expect(keyServer.requests).toBe(2);
  });

  it('does not fetch again for unknown kids within the interval, however many arrive', async () => {
    const { clock, registry } = setUp();
    const known = await clientKey('known');
    serveKeys([known], { cacheControl: 'max-age=3600' });
    await verify(registry, clock, known);
    clock.advance(31);
    const forged = await clientKey('forged');
    const results = await Promise.all(Array.from({ length: 25 }, () => verify(registry, clock, forged)));
    expect(results.every((result) => !result.valid)).toBe(true);
    expect(keyServer.requests).toBe(2);
    clock.advance(10);
    await verify(registry, clock, forged);
    expect(keyServer.requests).toBe(2);
    clock.advance(21);
    await verify(registry, clock, forged);
    expect(keyServer.requests).toBe(3);
  });
});

describe('concurrent needs of one jwks_uri share a single fetch', () => {
  it('100 first uses at once: one request', async () => {
    const { registry } = setUp();
    serveKeys([await clientKey('k1')], { delayMs: 150 });
    const keys = registry.keysFor({ type: 'jwks_uri', uri: keyServer.uri });
    const results = await Promise.all(Array.from({ length: 100 }, () => keys.current()));
    expect(results.every((result) => result.length === 1)).toBe(true);
    expect(keyServer.requests).toBe(1);
  });

  it('50 unknown-kid refetches at once: one request', async () => {
    const { clock, registry } = setUp();
    const key = await clientKey('k1');
    serveKeys([key], { delayMs: 100 });
    const keys = registry.keysFor({ type: 'jwks_uri', uri: keyServer.uri });
    await keys.current();
    clock.advance(31);
    const results = await Promise.all(Array.from({ length: 50 }, () => keys.refetch()));
    expect(results.every((result) => result?.length === 1)).toBe(true);
    expect(keyServer.requests).toBe(2);
  });
});

describe('a failing jwks_uri neither hangs requests nor takes the server down', () => {
  it('gives up after the timeout, and within the refetch interval fails at once without asking again', async () => {
    const { clock, registry } = setUp({ timeoutMs: 300 });
    keyServer.respond = () => undefined; // never answers
    const keys = registry.keysFor({ type: 'jwks_uri', uri: keyServer.uri });
    const started = Date.now();
    await expect(keys.current()).rejects.toThrow('the jwks_uri did not answer within 300 ms');
    expect(Date.now() - started).toBeLessThan(2000);
    const again = Date.now();
    await expect(keys.current()).rejects.toBeInstanceOf(JwksUnavailable);
    expect(Date.now() - again).toBeLessThan(100);
    expect(keyServer.requests).toBe(1);
    const result = await verify(registry, clock, await clientKey('k1'));
    expect(result).toEqual({ valid: false, reason: 'no keys for the client: the jwks_uri did not answer within 300 ms' });
    expect(keyServer.requests).toBe(1);
  });

  it('refuses an answer over the size limit, announced or not', async () => {
    const { clock, registry } = setUp({ maxBytes: 4096 });
    keyServer.respond = (_request, response) => {
      response.setHeader('content-length', String(10_000));
      response.end('x'.repeat(10_000));
    };
    const keys = registry.keysFor({ type: 'jwks_uri', uri: keyServer.uri });
    await expect(keys.current()).rejects.toThrow('the jwks_uri answer is larger than 4096 bytes');
    keyServer.respond = (_request, response) => {
      // Chunked, no Content-Length: the limit holds while reading.
      response.write(`{"keys":[${'{},'.repeat(1500)}`);
      response.write(`${'{},'.repeat(1500)}{}]}`);
      response.end();
    };
    clock.advance(31);
    await expect(keys.current()).rejects.toThrow('the jwks_uri answer is larger than 4096 bytes');
    expect(keyServer.requests).toBe(2);
  });

  it('refuses error statuses, redirects and answers that are not a JWK Set, and says so once per fetch (for the log)', async () => {
    const { clock, registry, failures } = setUp();
    const keys = registry.keysFor({ type: 'jwks_uri', uri: keyServer.uri });
    keyServer.respond = (_request, response) => {
      response.statusCode = 404;
      response.end('not here');
    };
    await expect(keys.current()).rejects.toThrow('the jwks_uri answered HTTP 404');
    keyServer.respond = (_request, response) => {
      response.statusCode = 302;
      response.setHeader('location', 'http://127.0.0.1:1/elsewhere');
      response.end();
    };
    clock.advance(31);
    await expect(keys.current()).rejects.toThrow('the jwks_uri could not be fetched');
    keyServer.respond = (_request, response) => response.end('<html>');
    clock.advance(31);
    await expect(keys.current()).rejects.toThrow('the jwks_uri did not answer JSON');
    keyServer.respond = (_request, response) => response.end('{"keys": []}');
    clock.advance(31);
    await expect(keys.current()).rejects.toThrow('the jwks_uri JWK Set holds no key usable for client assertions');
    // Within the refetch interval nothing is fetched, so nothing more is said.
    await expect(keys.current()).rejects.toThrow();
    expect(failures).toEqual([
      'the jwks_uri answered HTTP 404',
      'the jwks_uri could not be fetched',
      'the jwks_uri did not answer JSON',
      'the jwks_uri JWK Set holds no key usable for client assertions',
    ]);
  });

  it('keeps serving the last good set while the jwks_uri fails, up to maxStaleSeconds past its freshness', async () => {
    const { clock, registry } = setUp();
    const key = await clientKey('k1');
    serveKeys([key], { cacheControl: 'max-age=60' });
    const keys = registry.keysFor({ type: 'jwks_uri', uri: keyServer.uri });
    await keys.current();
    keyServer.respond = (_request, response) => {
      response.statusCode = 503;
      response.end();
    };
    clock.advance(61);
    expect(await keys.current()).toEqual([key.publicJwk]);
    expect(keyServer.requests).toBe(2);
    await expect(verify(registry, clock, key)).resolves.toMatchObject({ valid: true });
    clock.advance(3600);
    await expect(keys.current()).rejects.toThrow('the jwks_uri answered HTTP 503');
  });

  it('refuses a jwks_uri that is plain http on another host without connecting anywhere', async () => {
    const { registry } = setUp();
    await expect(registry.keysFor({ type: 'jwks_uri', uri: 'http://client.example/jwks.json' }).current()).rejects.toThrow(
      /must use https \(http only on a loopback address\)/,
    );
    expect(keyServer.requests).toBe(0);
  });
});

describe('a registered JWK Set', () => {
  it('is used as it is, with nothing to fetch', async () => {
    const { registry } = setUp();
    const key = await clientKey('k1');
    const keys = registry.keysFor({ type: 'jwks', jwks: { keys: [key.publicJwk] } });
    expect(await keys.current()).toEqual([key.publicJwk]);
    expect(await keys.refetch()).toBeUndefined();
    expect(keyServer.requests).toBe(0);
  });
});
