import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeDatabase, embeddedKnex, newEmbeddedPglite, openDatabase, type Database } from '../../src/store/database.js';
import { expectOneLineFailure, PROCESS_TEST_TIMEOUT_MS, REPO_ROOT, runCli, runServerToExit } from '../helpers/process.js';

/** The cluster's identity: initdb draws a new one. */
async function systemIdentifier(db: Database): Promise<string> {
  const system = await db.raw<{ rows: { system_identifier: string }[] }>('SELECT system_identifier::text FROM pg_control_system()');
  return system.rows[0]?.system_identifier ?? '';
}

/** Every test's DATA_DIRs, under one directory removed at the end. */
const parent = mkdtempSync(join(tmpdir(), 'gatehouse-data-dir-'));
afterAll(() => rmSync(parent, { recursive: true, force: true }));

/**
 * PGlite writes the files of the embedded database readable and writable by everyone: the mode of
 * DATA_DIR (0700) is what keeps other local users out, whether a CLI command or the server opens it first.
 */
describe('DATA_DIR is made private by whoever opens it first', () => {
  it(
    'a CLI command on an existing DATA_DIR of mode 0755 leaves it 0700',
    async () => {
      const dataDir = join(parent, 'data');
      mkdirSync(dataDir, { mode: 0o755 });
      expect(statSync(dataDir).mode & 0o777).toBe(0o755);
      const listed = await runCli(['keys', 'list', '--json'], { env: { DATA_DIR: dataDir } });
      expect({ code: listed.code, stderr: listed.stderr }).toEqual({ code: 0, stderr: '' });
      expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});

describe('a new DATA_DIR starts from the template the build made', () => {
  it(
    'is a copy of dist/embedded-template.tar.gz (no initdb of its own), to which migrate applies every migration',
    async () => {
      const dataDir = join(parent, 'from-template');
      const migrated = await runCli(['migrate', '--json'], { env: { DATA_DIR: dataDir } });
      expect({ code: migrated.code, stderr: migrated.stderr }).toEqual({ code: 0, stderr: '' });
      const everyMigration = readdirSync(join(REPO_ROOT, 'migrations'))
        .map((name) => name.replace(/\.ts$/, ''))
        .sort();
      expect((JSON.parse(migrated.stdout) as { applied: string[] }).applied.sort()).toEqual(everyMigration);

      const template = embeddedKnex({
        pglite: newEmbeddedPglite({ loadDataDir: new Blob([readFileSync(join(REPO_ROOT, 'dist', 'embedded-template.tar.gz'))]) }),
      });
      const made = openDatabase({ dataDir });
      try {
        expect(await systemIdentifier(made)).toBe(await systemIdentifier(template));
      } finally {
        await closeDatabase(template);
        await closeDatabase(made);
      }
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});

/**
 * PGlite initialises PostgreSQL's shared buffers at every start, in the Node process's memory: the
 * default 128 MB cost every CLI command about half a second and 120 MB (docs/performance.md).
 */
describe('the embedded database runs with 16 MB of shared buffers', () => {
  async function sharedBuffers(db: Database): Promise<string> {
    const shown = await db.raw<{ rows: { shared_buffers: string }[] }>('SHOW shared_buffers');
    return shown.rows[0]?.shared_buffers ?? '';
  }

  it(
    'in a new DATA_DIR and in an existing one',
    async () => {
      const dataDir = join(parent, 'buffers');
      for (const state of ['new', 'existing']) {
        const db = openDatabase({ dataDir });
        try {
          expect({ state, sharedBuffers: await sharedBuffers(db) }).toEqual({ state, sharedBuffers: '16MB' });
        } finally {
          await closeDatabase(db);
        }
      }
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});

/** Files PostgreSQL cannot start on (here: a PG_VERSION and nothing else) are the operator's to look at. */
describe('a DATA_DIR whose database cannot start', () => {
  it(
    'fails the CLI and the server in one line naming DATA_DIR, with no stack',
    async () => {
      const dataDir = join(parent, 'damaged');
      mkdirSync(join(dataDir, 'pgdata'), { recursive: true });
      writeFileSync(join(dataDir, 'pgdata', 'PG_VERSION'), '17\n');
      const expected = /^gatehouse: DATA_DIR: cannot start the embedded database in .*damaged \(.+\); restore DATA_DIR from a backup/;
      expect(expectOneLineFailure(await runCli(['client', 'list', '--json'], { env: { DATA_DIR: dataDir } }))).toMatch(expected);
      expect(expectOneLineFailure(await runServerToExit({ DATA_DIR: dataDir }))).toMatch(expected);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});
