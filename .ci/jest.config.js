import base from '../jest.config.js';

/**
 * CI's one jest run: every tier, and the integration tier twice, on PostgreSQL (TEST_DATABASE_URL,
 * which .ci/run sets) and on the embedded database. One run keeps both cores busy until the end,
 * longest files first, rather than three runs each idling on its last file.
 */
const byName = Object.fromEntries(base.projects.map((project) => [project.displayName, project]));

export default {
  ...base,
  projects: [
    byName.unit,
    { ...byName.integration, displayName: 'integration (PostgreSQL)' },
    { ...byName.integration, displayName: 'integration (embedded)', setupFiles: ['<rootDir>/.ci/embedded-database.js'] },
    // Once, with TEST_DATABASE_URL: its CLI and key tests run on an embedded DATA_DIR and on PostgreSQL both.
    byName.system,
  ],
};
