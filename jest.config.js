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

import { existsSync } from 'node:fs';

/**
 * Test files made only of tests that need a service this machine may lack: where it is missing they
 * are left out of the run (a file without tests is an error) and listed at its end as not run here
 * (test/summary-reporter.js). Tests inside other files use the helpers of test/helpers/prerequisites.ts.
 */
const FILES_NEEDING = [
  {
    needs: 'TEST_DATABASE_URL',
    available: Boolean(process.env.TEST_DATABASE_URL),
    files: ['crash-safety', 'database-faults', 'metrics-warning', 'server-edges', 'two-server-processes'].map((name) => `test/system/${name}.test.ts`),
  },
  {
    needs: 'Chromium at /usr/bin/chromium: apt-get install -y chromium',
    available: existsSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'),
    files: ['test/system/console-browser.test.ts', 'test/system/newcomer-path.test.ts'],
  },
];
const leftOut = FILES_NEEDING.filter((group) => !group.available).flatMap((group) => group.files.map((file) => ({ file, needs: group.needs })));

/** @type {import('jest').Config} */
const common = {
  // Explicit, so that a config elsewhere (.ci/jest.config.js) can reuse these projects.
  rootDir: import.meta.dirname,
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  testPathIgnorePatterns: ['/node_modules/', ...leftOut.map(({ file }) => `<rootDir>/${file}`)],
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
  reporters: ['default', ['<rootDir>/test/summary-reporter.js', { leftOut }]],
  // Drops the migrated template the PostgreSQL test databases were copied from (test/helpers/database.ts).
  globalTeardown: '<rootDir>/test/global-teardown.js',
};
