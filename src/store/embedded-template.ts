import { randomBytes } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { EMBEDDED_TEMPLATE_PATH, embeddedDriver, embeddedKnex } from './database.js';
import { migrateToLatest } from './migrate.js';

/**
 * Writes the template a new DATA_DIR starts from (database.ts): an embedded database as initdb and
 * every migration leave it, as PGlite's tarball of its data directory (gzipped: 4.7 MB rather than 41). `npm run build` (and
 * so `npm ci`) makes it once, with the migrations it compiles; nothing in it is secret (the signing
 * keys are made at the first start, in the DATA_DIR itself).
 */
export async function writeEmbeddedTemplate(path: string = EMBEDDED_TEMPLATE_PATH, compression: 'gzip' | 'none' = 'gzip'): Promise<void> {
  const pglite = new (embeddedDriver().PGlite)();
  const db = embeddedKnex({ pglite });
  try {
    await migrateToLatest(db);
    const tarball = Buffer.from(await (await pglite.dumpDataDir(compression)).arrayBuffer());
    // Written aside and renamed: a server starting meanwhile never reads half a file.
    const partial = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.partial`;
    writeFileSync(partial, tarball);
    renameSync(partial, path);
  } finally {
    await db.destroy();
    if (!pglite.closed) await pglite.close();
  }
}
