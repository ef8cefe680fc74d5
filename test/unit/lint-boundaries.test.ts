import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { REPO_ROOT } from '../helpers/process.js';

/**
 * The layering rules of eslint.config.js, applied to code that breaks them. Type information is
 * switched off here (the snippets are not files of the project); the boundary rules do not need it.
 */
const eslint = new ESLint({ cwd: REPO_ROOT, overrideConfig: [tseslint.configs.disableTypeChecked] });

async function boundaryErrors(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((message) => message.ruleId === '@typescript-eslint/no-restricted-imports').map((message) => message.message);
}

describe('lint rules hold the layering of src/', () => {
  it('refuse knex in an endpoint', async () => {
    const errors = await boundaryErrors("import knex from 'knex';\nexport const db = knex({ client: 'pg' });\n", 'src/endpoints/probe.ts');
    expect(errors).toEqual([expect.stringContaining('Database access belongs to src/store/')]);
  });

  it('refuse a repository in an endpoint, the CLI or a grant type, but allow its types', async () => {
    const value = "import { findClientById } from '../store/clients-repository.js';\nexport const find = findClientById;\n";
    for (const file of ['src/endpoints/probe.ts', 'src/cli/probe.ts', 'src/grant-types/probe.ts', 'src/http/probe.ts']) {
      expect(await boundaryErrors(value, file)).toEqual([expect.stringContaining('Go through a service')]);
    }
    const typeOnly = "import type { Client } from '../store/clients-repository.js';\nexport type Probe = Client;\n";
    expect(await boundaryErrors(typeOnly, 'src/endpoints/probe.ts')).toEqual([]);
  });

  it('refuse anything but src/lib/ in the store', async () => {
    expect(await boundaryErrors("import { createClient } from '../services/clients.js';\nexport const c = createClient;\n", 'src/store/probe.ts')).toEqual([
      expect.stringContaining('src/store/ imports only src/lib/'),
    ]);
    expect(await boundaryErrors("import { sha256Hex } from '../lib/hash.js';\nexport const h = sha256Hex;\n", 'src/store/probe.ts')).toEqual([]);
  });

  it('refuse Koa below the HTTP layer', async () => {
    for (const file of ['src/services/probe.ts', 'src/grant-types/probe.ts', 'src/tokens/probe.ts', 'src/store/probe.ts', 'src/cli/probe.ts']) {
      expect(await boundaryErrors("import type { Context } from 'koa';\nexport type C = Context;\n", file)).toEqual([
        expect.stringContaining('Koa belongs to'),
      ]);
    }
    expect(await boundaryErrors("import type { Context } from 'koa';\nexport type C = Context;\n", 'src/http/probe.ts')).toEqual([]);
  });
});
