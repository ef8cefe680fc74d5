// @ts-check
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * The layering of src/ (see ARCHITECTURE.md), held by lint rules rather than by memory:
 * - knex and SQL only in src/store/ (type-only imports of knex types are fine elsewhere);
 * - src/store/ imports only src/lib/ (and the migrations);
 * - endpoints, the HTTP middleware, the CLI and the grant types reach the store only through
 *   services (type-only imports of the domain types Client, User, Grant are fine);
 * - nothing below the HTTP layer (grant types, tokens, keys, services, store, lib, the CLI)
 *   imports Koa.
 */
const KOA = ['koa', '@koa/router', '@koa/bodyparser', '@koa/cors', 'koa-helmet'];
const DATABASE_DRIVERS = ['knex', 'pg', 'knex-pglite', '@electric-sql/pglite'];

const noKoa = KOA.map((name) => ({ name, message: 'Koa belongs to src/http/, src/endpoints/ and the app (src/app.ts, src/routes.ts).' }));
const noDatabaseDrivers = DATABASE_DRIVERS.map((name) => ({
  name,
  allowTypeImports: true,
  message: 'Database access belongs to src/store/ (repository functions); call a service instead.',
}));
const noStoreValues = {
  group: ['**/store/*'],
  allowTypeImports: true,
  message: 'Go through a service (src/services/); type-only imports of the domain types are fine.',
};

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', 'node_modules/', 'data/', 'test-output/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      eqeqeq: ['error', 'always'],
      'no-console': 'error',
      // Koa middleware and repository methods are async by contract, with or without an await.
      '@typescript-eslint/require-await': 'off',
    },
  },
  // bin/serve.cjs: plain CommonJS that must load before any ES module (it sizes libuv's pool).
  {
    files: ['bin/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { sourceType: 'commonjs', parserOptions: { projectService: false, project: null }, globals: { ...globals.node } },
    rules: { ...tseslint.configs.disableTypeChecked.rules, '@typescript-eslint/no-require-imports': 'off' },
  },
  // Layering of src/ (later blocks replace the rule for the files they match).
  {
    files: ['src/store/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: noKoa,
          patterns: [{ regex: '^\\.\\./(?!lib/|\\.\\./migrations/)', message: 'src/store/ imports only src/lib/ (and the migrations).' }],
        },
      ],
    },
  },
  {
    files: ['src/lib/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [...noKoa, ...noDatabaseDrivers],
          patterns: [{ regex: '^\\.\\./(?!errors\\.js$)', message: 'src/lib/ holds pure helpers: it imports only itself and src/errors.ts.' }],
        },
      ],
    },
  },
  {
    files: ['src/services/**/*.ts', 'src/tokens/**/*.ts', 'src/keys/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { paths: [...noKoa, ...noDatabaseDrivers] }] },
  },
  {
    files: ['src/grant-types/**/*.ts', 'src/cli/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { paths: [...noKoa, ...noDatabaseDrivers], patterns: [noStoreValues] }] },
  },
  {
    files: ['src/endpoints/**/*.ts', 'src/http/**/*.ts', 'src/openapi/**/*.ts', 'src/console/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { paths: noDatabaseDrivers, patterns: [noStoreValues] }] },
  },
  {
    // Tests and tools may use anything, and assert with loosely typed bodies.
    files: ['test/**/*.ts', 'bench/**/*.ts', 'examples/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      // createServer(app.callback()) is how Koa is started; examples keep the idiom readers know.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // The admin console's page scripts run in the browser.
    files: ['src/console/assets/**/*.js'],
    languageOptions: { globals: { ...globals.browser } },
  },
  prettier,
);
