import { randomUUID } from 'node:crypto';
import { cleanUpExpiredRows } from '../../src/services/housekeeping.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

const DAY = 24 * 3600 * 1000;

describe('periodic clean-up deletes only rows that no longer matter', () => {
  let database: TestDatabase;
  const now = new Date('2026-11-26T12:00:00Z');
  const ago = (ms: number) => new Date(now.getTime() - ms);
  const ahead = (ms: number) => new Date(now.getTime() + ms);

  beforeAll(async () => {
    database = await createTestDatabase();
    const db = database.db;
    await db('clients').insert({ id: 'app', secret_hash: null, grant_types: ['password'], scopes: ['read'], created_at: now, updated_at: now });
    const userId = randomUUID();
    await db('users').insert({ id: userId, username: 'alice', password_hash: 'x', scopes: ['read'], created_at: now, updated_at: now });
    const grant = (id: string, expiresAt: Date, revokedAt: Date | null) => ({
      id,
      client_id: 'app',
      user_id: userId,
      scopes: ['read'],
      created_at: ago(40 * DAY),
      expires_at: expiresAt,
      revoked_at: revokedAt,
    });
    const live = randomUUID();
    await db('grants').insert([
      grant(live, ahead(DAY), null),
      grant(randomUUID(), ago(2 * DAY), null), // expired two days ago
      grant(randomUUID(), ahead(DAY), ago(2 * DAY)), // revoked two days ago
      grant(randomUUID(), ahead(DAY), ago(1000)), // revoked just now: kept a day for reuse answers
    ]);
    const token = (hash: string, expiresAt: Date) => ({ token_hash: hash, grant_id: live, created_at: ago(DAY), expires_at: expiresAt });
    await db('refresh_tokens').insert([token('a', ago(2 * DAY)), token('b', ago(3 * DAY)), token('c', ahead(DAY))]);
    await db('revoked_access_tokens').insert([
      { jti: randomUUID(), expires_at: ago(1000) },
      { jti: randomUUID(), expires_at: ago(5000) },
      { jti: randomUUID(), expires_at: ahead(1000) },
    ]);
    await db('rate_limits').insert([
      { key: 'login_failures:old', points: 3, expire: now.getTime() - 1000 },
      { key: 'login_failures:live', points: 1, expire: now.getTime() + 60_000 },
    ]);
    await db('replay_cache').insert([
      { key: 'a'.repeat(64), expires_at: ago(1000) },
      { key: 'b'.repeat(64), expires_at: now },
      { key: 'c'.repeat(64), expires_at: ahead(1000) },
    ]);
    await db('audit_log').insert([
      { at: ago(100 * DAY), actor_type: 'cli', action: 'old', details: '{}' },
      { at: ago(DAY), actor_type: 'cli', action: 'recent', details: '{}' },
    ]);
  });
  afterAll(() => database.close());

  it('deletes dead grants, expired refresh tokens, expired deny-list and replay-cache entries and old audit rows, in batches', async () => {
    const result = await cleanUpExpiredRows(database.db, now, { auditRetention: 90 * 24 * 3600, batchSize: 1 });
    expect(result).toEqual({
      grants: 2,
      refreshTokens: 2,
      revokedAccessTokens: 2,
      auditEntries: 1,
      rateLimitCounters: 1,
      replayCacheEntries: 2,
      statusLists: 0,
    });
    expect((await database.db('replay_cache').select('key')).map((r: { key: string }) => r.key)).toEqual(['c'.repeat(64)]);
    expect((await database.db('rate_limits').select('key')).map((r: { key: string }) => r.key)).toEqual(['login_failures:live']);
    expect(Number((await database.db('grants').count('* as n').first())?.n)).toBe(2);
    expect((await database.db('refresh_tokens').select('token_hash')).map((r: { token_hash: string }) => r.token_hash)).toEqual(['c']);
    expect(Number((await database.db('revoked_access_tokens').count('* as n').first())?.n)).toBe(1);
    expect((await database.db('audit_log').select('action')).map((r: { action: string }) => r.action)).toEqual(['recent']);
  });

  it('finds nothing more on a second pass', async () => {
    expect(await cleanUpExpiredRows(database.db, now, { auditRetention: 90 * 24 * 3600 })).toEqual({
      grants: 0,
      refreshTokens: 0,
      revokedAccessTokens: 0,
      auditEntries: 0,
      rateLimitCounters: 0,
      replayCacheEntries: 0,
      statusLists: 0,
    });
  });
});
