#!/usr/bin/env node
// Compiles src/, migrations/ and knexfile.ts into dist/, copies the files the server reads at run
// time (the admin console's page, styles and scripts) and writes the template a new embedded
// DATA_DIR starts from (dist/embedded-template.tar.gz), so that dist/ holds everything `npm start`
// needs. `--no-check` emits without type checking: a production install (`npm ci --omit=dev`) has
// the compiler (a dependency) but not the @types packages, and the code was checked before it was
// committed (`npm run typecheck` in CI). `npm run build` checks.
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const args = [tsc, '-p', join(root, 'tsconfig.build.json'), ...(process.argv.includes('--no-check') ? ['--noCheck'] : [])];
const compiled = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
if (compiled.status !== 0) process.exit(compiled.status ?? 1);

const assets = join(root, 'dist', 'src', 'console', 'assets');
rmSync(assets, { recursive: true, force: true });
cpSync(join(root, 'src', 'console', 'assets'), assets, { recursive: true });

// The embedded database cluster as initdb leaves it (src/store/embedded-template.ts); the migrations run at the first start.
// --liftoff-only: PGlite runs once here, too briefly for V8's optimizing WebAssembly compiler to pay.
const template = spawnSync(
  process.execPath,
  ['--liftoff-only', '--input-type=module', '-e', "await (await import('./dist/src/store/embedded-template.js')).writeEmbeddedTemplate();"],
  { cwd: root, stdio: 'inherit' },
);
if (template.status !== 0) process.exit(template.status ?? 1);
