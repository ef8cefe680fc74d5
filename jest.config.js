/**
 * Three tiers, each a jest project (`npm run test:unit`, `test:integration`, `test:system`; `npm test`
 * runs all three):
 * - unit: no I/O beyond reading the repository (pure functions, configuration, docs tables);
 * - integration: HTTP and database in this process (a Gatehouse app on a fresh database per file);
 * - system: spawned server and CLI processes, database faults, crash safety, shutdown, real-time
 *   and timing behaviour, fuzzing, two instances.
 * Every tier uses TEST_DATABASE_URL when set, otherwise the embedded database; tests that need
 * PostgreSQL are reported as skipped without it. test/README.md says what goes where.
 */

/** @type {import('jest').Config} */
const common = {
  // Explicit, so that a config elsewhere (.ci/jest.config.js) can reuse these projects.
  rootDir: import.meta.dirname,
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
};

/** @type {import('jest').Config} */
export default {
  rootDir: import.meta.dirname,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'] },
    { ...common, displayName: 'system', testMatch: ['<rootDir>/test/system/**/*.test.ts'] },
  ],
  // Each test file gets its own database; two workers fit the 2-core machine.
  maxWorkers: 2,
  // For every tier (jest takes it from here only); tests that spawn processes set longer ones.
  testTimeout: 60_000,
  reporters: ['default', '<rootDir>/test/summary-reporter.js'],
};
