import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let version: string | undefined;

/**
 * Gatehouse's version, from its package.json: the nearest one above this file, which is the same
 * whether the code runs compiled (dist/src/lib) or from source (src/lib).
 */
export function packageVersion(): string {
  if (version !== undefined) return version;
  for (let directory = dirname(fileURLToPath(import.meta.url)); ; directory = dirname(directory)) {
    const candidate = join(directory, 'package.json');
    if (existsSync(candidate)) {
      const manifest = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'gatehouse' && manifest.version) return (version = manifest.version);
    }
    if (dirname(directory) === directory) return (version = '0.0.0');
  }
}
