// For the knex CLI and tooling. The server itself opens the database in src/store/database.ts
// and applies migrations from the list in src/store/migrate.ts.
const config = {
  client: 'pg',
  connection: process.env.DATABASE_URL,
  migrations: { directory: './migrations', extension: 'ts' },
};

export default config;
