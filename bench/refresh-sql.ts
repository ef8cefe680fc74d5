/**
 * The bound for the refresh workload: the database work of one `grant_type=refresh_token` request,
 * without HTTP, JSON, signing or hashing — the same statements through the server's own store code,
 * in the order src/http/client-auth.ts and src/grant-types/refresh-token.ts run them. Keep it in step with
 * those files: the ratio "refresh req/s ÷ this rate" is only meaningful while the statements match.
 */
import { randomBytes } from 'node:crypto';
import { openDatabase, closeDatabase } from '../src/store/database.js';
import { findRefreshTokenWithGrantAndUser, insertRefreshToken, rotateRefreshToken } from '../src/store/refresh-tokens-repository.js';
import { startGrant } from '../src/services/grants.js';

const newHash = (): string => randomBytes(32).toString('hex');

export async function refreshSqlBound(job: {
  seconds: number;
  concurrency: number;
  poolMax: number;
  databaseUrl: string;
  clientId: string;
  userId: string;
}): Promise<{ rate: number }> {
  const db = openDatabase({ databaseUrl: job.databaseUrl, poolMax: job.poolMax });
  try {
    const now = new Date();
    const heads: string[] = [];
    for (let i = 0; i < job.concurrency; i++) {
      const grant = await startGrant(db, { clientId: job.clientId, userId: job.userId, scopes: ['api'], now, lifetimeSeconds: 86_400 });
      const hash = newHash();
      await insertRefreshToken(db, {
        tokenHash: hash,
        grantId: grant.id,
        parentHash: null,
        createdAt: now,
        expiresAt: new Date(now.getTime() + 86_400_000),
        usedAt: null,
      });
      heads.push(hash);
    }
    const end = Date.now() + job.seconds * 1000;
    let count = 0;
    const family = async (index: number): Promise<void> => {
      while (Date.now() < end) {
        const hash = heads[index]!;
        // (the client is found in the server's in-memory cache: no statement)
        // Token, grant and user in one statement, then the rotation: the two round trips of a refresh.
        const found = await findRefreshTokenWithGrantAndUser(db, hash);
        if (!found || found.token.usedAt || !found.user) throw new Error('refresh-sql: lost the family');
        const at = new Date();
        const successor = newHash();
        const rotated = await rotateRefreshToken(db, hash, at, {
          tokenHash: successor,
          grantId: found.grant.id,
          createdAt: at,
          expiresAt: new Date(at.getTime() + 86_400_000),
        });
        if (!rotated) throw new Error('refresh-sql: token already used');
        heads[index] = successor;
        count++;
      }
    };
    const started = Date.now();
    await Promise.all(heads.map((_, index) => family(index)));
    return { rate: count / ((Date.now() - started) / 1000) };
  } finally {
    await closeDatabase(db);
  }
}
