// The embedded-database run of the integration tier: each test file sees no TEST_DATABASE_URL
// (jest gives every test file its own copy of process.env).
delete process.env.TEST_DATABASE_URL;
