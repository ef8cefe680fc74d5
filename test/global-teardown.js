import pg from 'pg';

/**
 * After the whole run: drops the migrated template PostgreSQL test databases were copied from
 * (test/helpers/database.ts, `migratedPostgresTemplate`), named `<TEST_DATABASE_URL's database>_tmpl_<hash>`.
 * Only those: the server's other databases are never touched.
 */
export default async function dropTestTemplates() {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) return;
  const prefix = `${decodeURIComponent(new URL(url).pathname.slice(1))}_tmpl_`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [prefix]);
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
