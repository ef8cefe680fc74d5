import { randomBytes } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { closeDatabase, EMBEDDED_TEMPLATE_PATH, embeddedKnex, newEmbeddedPglite } from './database.js';
import { migrateToLatest } from './migrate.js';

/**
 * Writes a tarball of an embedded database's data directory, as PGlite makes and loads them.
 * The default is the template a new DATA_DIR starts from (database.ts): the cluster initdb leaves,
 * gzipped (4.5 MB rather than 41), without the migrations, which the first start or CLI command
 * applies and reports as it always did. `npm run build` (and so `npm ci`) writes it. Nothing in it
 * is secret (the signing keys are made at the first start, in the DATA_DIR itself). `migrated`
 * applies every migration first (the tests' snapshot).
 */
export async function writeEmbeddedTemplate(
  path: string = EMBEDDED_TEMPLATE_PATH,
  options: { migrated?: boolean; compression?: 'gzip' | 'none' } = {},
): Promise<void> {
  const pglite = newEmbeddedPglite();
  const db = embeddedKnex({ pglite });
  try {
    if (options.migrated) await migrateToLatest(db);
    else await pglite.waitReady;
    const tarball = Buffer.from(await (await pglite.dumpDataDir(options.compression ?? 'gzip')).arrayBuffer());
    // Written aside and renamed: a process starting meanwhile never reads half a file.
    const partial = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.partial`;
    writeFileSync(partial, tarball);
    renameSync(partial, path);
  } finally {
    await closeDatabase(db);
  }
}
