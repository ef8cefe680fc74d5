import { expectOneLineFailure, PROCESS_TEST_TIMEOUT_MS, runCli } from '../helpers/process.js';
import { startTestServer } from '../helpers/server.js';
import { describeEachTarget, embeddedTarget, type ProcessTarget } from '../helpers/targets.js';
import { postToken } from '../helpers/token.js';

const SLOW = PROCESS_TEST_TIMEOUT_MS;

describeEachTarget('gatehouse migrate, client create and user create on $name', ({ create }) => {
  let target: ProcessTarget;
  const gatehouse = (args: string[], input?: string) => runCli(args, { env: target.env, input });

  beforeAll(async () => {
    target = await create();
  });
  afterAll(() => target.dispose());

  describe('migrate applies the migrations once', () => {
    it(
      'applies every migration to a new database and nothing the second time',
      async () => {
        const first = await gatehouse(['migrate', '--json']);
        expect(first).toMatchObject({ code: 0, stderr: '' });
        expect(JSON.parse(first.stdout).applied.length).toBeGreaterThanOrEqual(1);
        const second = await gatehouse(['migrate', '--json']);
        expect(second.code).toBe(0);
        expect(JSON.parse(second.stdout)).toEqual({ applied: [] });
      },
      SLOW,
    );
  });

  describe('client create registers a client and shows its secret once', () => {
    it(
      'generates a secret of 256 random bits when none is given',
      async () => {
        const result = await gatehouse(['client', 'create', '--id', 'app', '--grants', 'password,refresh_token', '--scopes', 'read write', '--json']);
        expect(result.code).toBe(0);
        const printed = JSON.parse(result.stdout);
        expect(Object.keys(printed).sort()).toEqual(['client_id', 'client_secret']);
        expect(printed.client_id).toBe('app');
        expect(printed.client_secret).toMatch(/^[A-Za-z0-9_-]{43,}$/);
      },
      SLOW,
    );

    it(
      'takes a given secret of at least 32 characters, and registers public clients without one',
      async () => {
        const secret = 'a-given-secret-that-is-long-enough-0123';
        const service = await gatehouse([
          'client',
          'create',
          '--id',
          'service',
          '--secret',
          secret,
          '--grants',
          'client_credentials',
          '--scopes',
          'reports',
          '--json',
        ]);
        expect(service.code).toBe(0);
        expect(JSON.parse(service.stdout)).toEqual({ client_id: 'service', client_secret: secret });
        const spa = await gatehouse(['client', 'create', '--id', 'spa', '--public', '--grants', 'password refresh_token', '--scopes', 'read', '--json']);
        expect(spa.code).toBe(0);
        expect(JSON.parse(spa.stdout)).toEqual({ client_id: 'spa', client_secret: null });
      },
      SLOW,
    );

    it(
      'registers a resource, lists it, and a key-based client for it (resource create/list, --resources, --auth-method private_key_jwt)',
      async () => {
        const created = await gatehouse(['resource', 'create', '--uri', 'https://orders.example.com', '--scopes', 'orders:read,orders:write', '--json']);
        expect(created).toMatchObject({ code: 0, stderr: '' });
        expect(JSON.parse(created.stdout)).toEqual({ uri: 'https://orders.example.com', scopes: ['orders:read', 'orders:write'] });
        const listed = await gatehouse(['resource', 'list', '--json']);
        expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ uri: 'https://orders.example.com', scopes: ['orders:read', 'orders:write'] })]);
        const jwks = JSON.stringify({ keys: [{ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo', kid: 'k1' }] });
        const keyBased = await gatehouse([
          'client',
          'create',
          '--id',
          'orders-worker',
          '--grants',
          'client_credentials',
          '--scopes',
          'orders:read',
          '--resources',
          'https://orders.example.com',
          '--auth-method',
          'private_key_jwt',
          '--jwks',
          jwks,
          '--json',
        ]);
        expect(keyBased).toMatchObject({ code: 0, stderr: '' });
        expect(JSON.parse(keyBased.stdout)).toEqual({ client_id: 'orders-worker', client_secret: null });
      },
      SLOW,
    );

    it(
      'refuses a duplicate id in one line',
      async () => {
        const line = expectOneLineFailure(await gatehouse(['client', 'create', '--id', 'app', '--grants', 'password', '--scopes', 'read']));
        expect(line).toMatch(/already exists/);
      },
      SLOW,
    );
  });

  describe('user create reads the password from standard input', () => {
    it(
      'creates a user and prints {"id","username"}',
      async () => {
        const result = await gatehouse(
          ['user', 'create', '--username', 'alice', '--password-stdin', '--email', 'alice@example.com', '--scopes', 'read,write', '--json'],
          'alice password\n',
        );
        expect(result.code).toBe(0);
        const printed = JSON.parse(result.stdout);
        expect(Object.keys(printed).sort()).toEqual(['id', 'username']);
        expect(printed).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), username: 'alice' });
      },
      SLOW,
    );

    it(
      'refuses a duplicate username in one line',
      async () => {
        const line = expectOneLineFailure(
          await gatehouse(['user', 'create', '--username', 'alice', '--password-stdin', '--scopes', 'read'], 'another password'),
        );
        expect(line).toMatch(/already exists/);
      },
      SLOW,
    );

    it(
      'stores the name in NFC, so its other form is the same, taken name',
      async () => {
        const result = await gatehouse(['user', 'create', '--username', 'Jose\u0301', '--password-stdin', '--scopes', 'read', '--json'], 'jose password');
        expect(result.code).toBe(0);
        expect(JSON.parse(result.stdout).username).toBe('Jos\u00e9');
        const line = expectOneLineFailure(
          await gatehouse(['user', 'create', '--username', 'Jos\u00e9', '--password-stdin', '--scopes', 'read'], 'jose password'),
        );
        expect(line).toMatch(/already exists/);
      },
      SLOW,
    );
  });

  describe('what the CLI created works at /token', () => {
    it(
      'lets the created clients log the created user in, with the password as typed before the newline',
      async () => {
        const { database, keyEncryptionSecret } = await target.open();
        const server = await startTestServer({ database, env: { KEY_ENCRYPTION_SECRET: keyEncryptionSecret } });
        try {
          const clients = await server.database.db('clients').orderBy('id').select('id');
          expect(clients.map((c: { id: string }) => c.id)).toEqual(['app', 'orders-worker', 'service', 'spa']);
          const publicLogin = await postToken(
            server,
            { grant_type: 'password', username: 'alice', password: 'alice password', scope: 'read' },
            { none: 'spa' },
          );
          expect(publicLogin.status).toBe(200);
          const machine = await postToken(server, { grant_type: 'client_credentials' }, { basic: ['service', 'a-given-secret-that-is-long-enough-0123'] });
          expect(machine.status).toBe(200);
          expect(machine.body.scope).toBe('reports');
        } finally {
          await server.close();
        }
      },
      SLOW,
    );
  });
});

describe('gatehouse refuses bad arguments in one line, before opening the database', () => {
  let embedded: ProcessTarget;
  const gatehouse = (args: string[], input?: string) => runCli(args, { env: embedded.env, input });

  beforeAll(() => {
    embedded = embeddedTarget();
  });
  afterAll(() => embedded.dispose());

  it.each([
    [
      'a secret shorter than 32 characters',
      ['client', 'create', '--id', 'short', '--secret', 'only-31-characters-long-secret!', '--grants', 'password', '--scopes', 'read'],
      /32/,
    ],
    ['an unknown grant type', ['client', 'create', '--id', 'odd', '--grants', 'password,authorization_code', '--scopes', 'read'], /authorization_code/],
    [
      'a public client with client_credentials',
      ['client', 'create', '--id', 'odd', '--public', '--grants', 'client_credentials', '--scopes', 'read'],
      /client_credentials/,
    ],
    [
      'a public client with a secret',
      ['client', 'create', '--id', 'odd', '--public', '--secret', 'x'.repeat(40), '--grants', 'password', '--scopes', 'read'],
      /public|secret/,
    ],
    ['a client id with a space', ['client', 'create', '--id', 'a b', '--grants', 'password', '--scopes', 'read'], /client id/],
    ['a missing required option', ['client', 'create', '--grants', 'password', '--scopes', 'read'], /--id/],
    ['an unknown command', ['clients', 'list'], /clients/],
  ])(
    'refuses %s',
    async (_name, args, pattern) => {
      const line = expectOneLineFailure(await gatehouse(args));
      expect(line).toMatch(pattern);
    },
    SLOW,
  );

  it(
    'refuses an empty password, or one that is only a newline',
    async () => {
      for (const input of ['', '\n']) {
        const line = expectOneLineFailure(await gatehouse(['user', 'create', '--username', 'empty', '--password-stdin', '--scopes', 'read'], input));
        expect(line).toMatch(/password/);
      }
    },
    SLOW,
  );

  it.each([
    ['U+202E RIGHT-TO-LEFT OVERRIDE', 'admin\u202Egpj.exe'],
    ['U+200B ZERO WIDTH SPACE', 'ad\u200Bmin'],
    ['U+0007 BELL', 'bell\u0007'],
    ['U+2028 LINE SEPARATOR', 'line\u2028break'],
  ])(
    'refuses a username with %s, naming the code point',
    async (_name, username) => {
      const line = expectOneLineFailure(await gatehouse(['user', 'create', '--username', username, '--password-stdin', '--scopes', 'read'], 'a good password'));
      expect(line).toMatch(/U\+(202E|200B|0007|2028)/);
      expect(line).not.toContain(username);
    },
    SLOW,
  );

  it(
    'refuses such a username in grants list --username too',
    async () => {
      const line = expectOneLineFailure(await gatehouse(['grants', 'list', '--username', 'ad\u200Bmin']));
      expect(line).toMatch(/U\+200B/);
    },
    SLOW,
  );

  it(
    'refuses a bad email address',
    async () => {
      const line = expectOneLineFailure(
        await gatehouse(['user', 'create', '--username', 'bob', '--password-stdin', '--email', 'not-an-email', '--scopes', 'read'], 'bob password'),
      );
      expect(line).toMatch(/email/);
    },
    SLOW,
  );
});
