import { decodeJwt } from 'jose';
import { importUsers } from '../../src/cli/user-import.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { adminToken, introspector, passwordTokens, postToken } from '../helpers/token.js';

/**
 * Usernames are NFC-normalised wherever one comes in, and names with control, bidirectional,
 * zero-width and other format characters are refused (RFC 8265, src/lib/username.ts).
 */

const JOSE_NFC = 'Jos\u00e9';
const JOSE_NFD = 'Jose\u0301';

let server: TestServer;
let auth: string;
let app: { clientId: string; clientSecret: string | null };

beforeAll(async () => {
  server = await startTestServer({ env: { LOCKOUT_THRESHOLD: '3' } });
  auth = `Bearer ${await adminToken(server, ['admin:users', 'admin:tokens'], 'username-admin')}`;
  app = await server.createClient({ id: 'username-app', grantTypes: ['password', 'refresh_token'] });
});
afterAll(() => server.close());

const createUser = (username: string, password = 'a long enough password') =>
  server.http
    .post('/admin/users')
    .set('Authorization', auth)
    .send({ username, password, scopes: ['read'] });
const login = (username: string, password = 'a long enough password') =>
  postToken(server, { grant_type: 'password', username, password }, { basic: [app.clientId, app.clientSecret as string] });

describe('one name in NFC, however it is typed', () => {
  it('logs in "José" created precomposed with the decomposed form, and the token names the stored form', async () => {
    expect(JOSE_NFD).not.toBe(JOSE_NFC);
    const created = await createUser(JOSE_NFC);
    expect(created.status).toBe(201);
    const response = await login(JOSE_NFD);
    expect(response.status).toBe(200);
    expect(decodeJwt(response.body.access_token as string)).toMatchObject({ sub: created.body.id, username: JOSE_NFC });
  });

  it('stores a name created decomposed in NFC, so the other form is the same name', async () => {
    const created = await createUser('Rene\u0301e');
    expect(created.status).toBe(201);
    expect(created.body.username).toBe('Ren\u00e9e');
    const again = await createUser('Ren\u00e9e');
    expect(again.status).toBe(409);
    expect((await login('Ren\u00e9e')).status).toBe(200);
  });

  it('finds the user by either form in GET /admin/grants?username= and POST /admin/revocations', async () => {
    const user = await server.createUser({ username: 'Zoë' });
    const tokens = await passwordTokens(server, app, user);
    const decomposed = 'Zoe\u0308';
    const listed = await server.http.get('/admin/grants').query({ username: decomposed }).set('Authorization', auth);
    expect(listed.status).toBe(200);
    expect(listed.body.items).toEqual([expect.objectContaining({ user_id: user.id, username: 'Zoë' })]);
    const revoked = await server.http.post('/admin/revocations').set('Authorization', auth).send({ username: decomposed });
    expect(revoked.body).toEqual({ revoked: 1 });
    const ask = await introspector(server);
    expect((await ask(tokens.access_token)).body).toEqual({ active: false });
  });

  it('locks a name after failed passwords whichever form they were typed in', async () => {
    const user = await server.createUser({ username: 'Ângela', password: 'angela right password' });
    for (const form of ['A\u0302ngela', 'Ângela', 'A\u0302ngela']) expect((await login(form, 'wrong password')).status).toBe(400);
    expect((await login(user.username, user.password)).status).toBe(429);
  });
});

describe('names with invisible or display-changing characters are refused', () => {
  it.each([
    ['U+202E RIGHT-TO-LEFT OVERRIDE', 'admin\u202Egpj.exe'],
    ['U+200B ZERO WIDTH SPACE', 'ad\u200Bmin'],
    ['U+0007 BELL', 'bell\u0007'],
    ['U+2028 LINE SEPARATOR', 'line\u2028break'],
    ['U+200D ZERO WIDTH JOINER', 'zw\u200Dj'],
    ['U+FEFF BYTE ORDER MARK', '\uFEFFbom'],
    ['U+E000 private use', 'private\uE000'],
    ['a lone surrogate', 'half\uD800'],
    ['U+FFFE noncharacter', 'non\uFFFE'],
  ])('creation refuses %s with 400 invalid_request naming the character', async (_name, username) => {
    const response = await createUser(username);
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_request');
    expect(response.body.error_description).toMatch(/U\+[0-9A-F]{4}/);
  });

  it('a login with such a name fails like an unknown user: invalid_grant', async () => {
    for (const username of ['José\u202E', 'ad\u200Bmin', 'x\u0007']) {
      const response = await login(username);
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('invalid_grant');
    }
  });

  it('GET /admin/grants?username= and POST /admin/revocations refuse them with 400 invalid_request', async () => {
    const listed = await server.http.get('/admin/grants').query({ username: 'ad\u200Bmin' }).set('Authorization', auth);
    expect({ status: listed.status, error: listed.body.error }).toEqual({ status: 400, error: 'invalid_request' });
    const revoked = await server.http.post('/admin/revocations').set('Authorization', auth).send({ username: 'admin\u202E' });
    expect({ status: revoked.status, error: revoked.body.error }).toEqual({ status: 400, error: 'invalid_request' });
  });
});

describe('user import: each row stands alone, and is named by its line in the file', () => {
  it('skips empty lines but counts them, keeps a stray quote as a character, fills short rows, refuses long ones', async () => {
    const csv = [
      'username,password,email,scopes', // line 1
      'import-one,short', // 2: too short a password
      '', // 3
      'import-two,import-two password,two@example.com,read,surplus', // 4: one field too many
      '',
      '',
      'import-three,abc"def"ghi,,read', // 7: a quote inside a field is a character
      'import-four,import-four password', // 8: no email nor scopes, the last cells left out
    ].join('\n');
    const result = await importUsers(server.deps, csv, undefined);
    expect(result).toEqual({
      created: 2,
      failed: [
        { line: 2, username: 'import-one', error: expect.stringMatching(/at least 8/) },
        { line: 4, username: 'import-two', error: 'the row has 5 fields, the header 4 columns' },
      ],
    });
    const tokens = await passwordTokens(server, app, { username: 'import-three', password: 'abc"def"ghi' });
    expect(decodeJwt(tokens.access_token).username).toBe('import-three');
  });

  it.each([
    ['username,username,password\na,b,c', /names username twice/],
    ['username,email\nalice,alice@example.com', /lacks the required column\(s\): password/],
    ['username,password,role\nalice,alice password,admin', /unknown CSV column\(s\): role/],
  ])('refuses a file whose header is wrong before any row: %j', async (csv, message) => {
    await expect(importUsers(server.deps, csv, undefined)).rejects.toThrow(message);
  });
});
