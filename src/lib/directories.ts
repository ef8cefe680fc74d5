import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * `mkdir -p`, one level at a time from the nearest existing ancestor. Node's own recursive mkdir
 * loops forever where the kernel answers ENOENT under a directory that exists (below /proc, say);
 * here any refusal is thrown at once.
 */
export function makeDirectories(path: string, mode: number): void {
  const missing: string[] = [];
  let current = resolve(path);
  while (!statSync(current, { throwIfNoEntry: false })) {
    missing.unshift(current);
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const directory of missing) mkdirSync(directory, { mode });
}
