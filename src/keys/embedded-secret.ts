import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { makeDirectories } from '../lib/directories.js';
import { join, resolve } from 'node:path';
import { randomToken } from '../lib/random.js';

/**
 * For the embedded database only: KEY_ENCRYPTION_SECRET may be left unset, and a random one is
 * generated once into DATA_DIR (mode 0600) and read back on every later start.
 */
export function readOrCreateEmbeddedSecret(dataDir: string): string {
  const directory = resolve(dataDir);
  const path = join(directory, 'key-encryption-secret');
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  makeDirectories(directory, 0o700);
  const secret = randomToken(32);
  writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  return secret;
}
