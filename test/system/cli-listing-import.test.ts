import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGrant } from '../../src/services/grants.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { PROCESS_TEST_TIMEOUT_MS, runCli } from '../helpers/process.js';
import { describeEachTarget, type ProcessTarget } from '../helpers/targets.js';

describeEachTarget('gatehouse list commands and user import on $name', ({ create }) => {
  let target: ProcessTarget;
  let folder: string;
  const gatehouse = (args: string[]) => runCli(args, { env: target.env });

  beforeAll(async () => {
    target = await create();
    folder = mkdtempSync(join(tmpdir(), 'gatehouse-import-'));
  });
  afterAll(async () => {
    rmSync(folder, { recursive: true, force: true });
    await target.dispose();
  });

  it(
    'imports users from CSV, reporting bad rows by line, and lists users, clients and grants',
    async () => {
      const csv = join(folder, 'users.csv');
      writeFileSync(csv, 'username,password,email,name,scopes\nann,ann password,ann@example.com,Ann,read write\nbo,short,,,read\ncy,cy password!,,,read\n');
      const imported = await gatehouse(['user', 'import', csv, '--json']);
      expect(imported.code).toBe(1);
      expect(JSON.parse(imported.stdout)).toEqual({ created: 2, failed: [{ line: 3, username: 'bo', error: expect.stringMatching(/at least 8/) }] });

      const users = JSON.parse((await gatehouse(['user', 'list', '--json'])).stdout) as { username: string; email: string | null; scopes: string[] }[];
      expect(users.map((u) => u.username)).toEqual(['ann', 'cy']);
      expect(users[0]).toMatchObject({ email: 'ann@example.com', scopes: ['read', 'write'] });
      expect(JSON.stringify(users)).not.toMatch(/argon2|password/);

      expect((await gatehouse(['client', 'create', '--id', 'app', '--grants', 'password', '--scopes', 'read', '--dpop-bound'])).code).toBe(0);
      const clients = JSON.parse((await gatehouse(['client', 'list', '--json'])).stdout);
      expect(clients).toEqual([expect.objectContaining({ client_id: 'app', public: false, grant_types: ['password'], dpop_bound_access_tokens: true })]);
      expect(JSON.stringify(clients)).not.toMatch(/"client_secret"|secret_hash|sha256|argon2/);

      const { database } = await target.open();
      try {
        await migrateToLatest(database.db);
        const ann = await database.db('users').where({ username: 'ann' }).first();
        await startGrant(database.db, { clientId: 'app', userId: ann.id, scopes: ['read'], now: new Date(), lifetimeSeconds: 3600 });
      } finally {
        await database.close();
      }
      const grants = JSON.parse((await gatehouse(['grants', 'list', '--username', 'ann', '--json'])).stdout);
      expect(grants).toEqual([expect.objectContaining({ username: 'ann', client_id: 'app', scope: 'read' })]);
      expect(JSON.parse((await gatehouse(['grants', 'list', '--username', 'cy', '--json'])).stdout)).toEqual([]);
      const human = await gatehouse(['user', 'list']);
      expect(human.stdout.split('\n')[0]).toMatch(/^id\s+username\s+email/);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    'imports names in NFC, refuses names with control or bidirectional characters, and shows those as code points',
    async () => {
      const csv = join(folder, 'names.csv');
      writeFileSync(csv, 'username,password\nRene\u0301e,renee password\nevil\u202Etxt.exe,evil password\n');
      const imported = await gatehouse(['user', 'import', csv]);
      expect(imported.code).toBe(1);
      expect(imported.stdout).toContain('created 1 user(s)');
      expect(imported.stdout).toMatch(/line 3 \(evil<U\+202E>txt\.exe\): .*U\+202E/);
      expect(imported.stdout).not.toContain('\u202E');
      // --json: the same name, escaped in the text (\u202e), the raw value once parsed.
      const asJson = await gatehouse(['user', 'import', csv, '--json']);
      expect(asJson.stdout).not.toContain('\u202E');
      expect((JSON.parse(asJson.stdout) as { failed: { username: string }[] }).failed.map((f) => f.username)).toContain('evil\u202Etxt.exe');
      const users = JSON.parse((await gatehouse(['user', 'list', '--json'])).stdout) as { username: string }[];
      expect(users.map((u) => u.username)).toContain('Ren\u00e9e');
      const { database } = await target.open();
      try {
        const renee = await database.db('users').where({ username: 'Ren\u00e9e' }).first();
        await startGrant(database.db, { clientId: 'app', userId: renee.id, scopes: ['read'], now: new Date(), lifetimeSeconds: 3600 });
      } finally {
        await database.close();
      }
      const grants = JSON.parse((await gatehouse(['grants', 'list', '--username', 'Rene\u0301e', '--json'])).stdout);
      expect(grants).toEqual([expect.objectContaining({ username: 'Ren\u00e9e', client_id: 'app' })]);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});
