import { Writable } from 'node:stream';
import { generateKeyPair, SignJWT } from 'jose';
import pino from 'pino';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { clientCredentialsToken, introspector } from '../helpers/token.js';

/**
 * Two instances on one database, configured with different ISSUER values: each refuses the other's
 * tokens (their `iss` is not its issuer), and says why in one warning per distinct `iss`, not one
 * per request, at /introspect and at the admin API alike.
 */
describe('a token signed by our keys but issued under another ISSUER', () => {
  const lines: { level: number; msg: string; iss?: string; issuer?: string }[] = [];
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line));
        done();
      },
    });
    a = await startTestServer({ logger: pino({ level: 'info' }, sink) });
    // The same database (so the same keys), another ISSUER; closing it leaves the database to a.
    b = await startTestServer({ database: { ...a.database, close: () => Promise.resolve() }, env: { ISSUER: 'http://gatehouse-b.internal:3000' } });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  const warnings = () => lines.filter((line) => line.level === 40 && /another ISSUER/.test(line.msg));

  it('is refused at /introspect and the admin API, with one warning naming both issuers', async () => {
    const admin = await b.createClient({ id: 'admin-b', grantTypes: ['client_credentials'], scopes: ['admin:users'] });
    const fromB = await clientCredentialsToken(b, admin);
    const ask = await introspector(a);
    expect((await ask(fromB)).body).toEqual({ active: false });
    expect((await ask(fromB)).body).toEqual({ active: false });
    const adminCall = await a.http.get('/admin/users').set('Authorization', `Bearer ${fromB}`);
    expect(adminCall.status).toBe(401);
    expect(warnings()).toEqual([expect.objectContaining({ iss: 'http://gatehouse-b.internal:3000', issuer: a.baseUrl })]);
    // A token a's own issuer signed is not such a token.
    const own = await clientCredentialsToken(a, await a.createClient({ id: 'admin-a', grantTypes: ['client_credentials'], scopes: ['admin:users'] }));
    expect((await a.http.get('/admin/users').set('Authorization', `Bearer ${own}`)).status).toBe(200);
    expect(warnings()).toHaveLength(1);
  });

  it('is not warned about when the signature is not ours', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const { kid } = a.deps.keys.signingKey();
    const forged = await new SignJWT({ client_id: 'admin-b', scope: 'admin:users', jti: 'forged', sub: 'admin-b', aud: a.baseUrl })
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid })
      .setIssuer('http://forger.example')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    expect((await a.http.get('/admin/users').set('Authorization', `Bearer ${forged}`)).status).toBe(401);
    expect(warnings().map((line) => line.iss)).toEqual(['http://gatehouse-b.internal:3000']);
  });
});
