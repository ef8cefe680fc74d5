import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { listSigningKeys } from '../../src/store/signing-keys-repository.js';
import { describeWithPostgres, type TestDatabase } from '../helpers/database.js';
import { activations, gaps, kidOf } from '../helpers/keys.js';
import { freePorts, PROCESS_TEST_TIMEOUT_MS, startServerProcess, type ServerProcess } from '../helpers/process.js';
import { postgresTarget, seedTarget, type ProcessTarget } from '../helpers/targets.js';
import { postTokenTo } from '../helpers/token.js';

/** The contract: every instance signs with a new current key within this long of the rotation. */
const PICKUP_BOUND_MS = 10_000;

// Two real servers need two processes, which the embedded database (one process) cannot host: on
// PGlite the KeyService test (test/integration/key-services-on-one-database.test.ts) stands in for this one.
describeWithPostgres(
  'two server processes (node dist/src/main.js) on one PostgreSQL database rotate exactly once per interval and every instance signs with the new key within 10 s',
  () => {
    const ROTATION_INTERVAL_MS = 2000;
    const ROTATIONS = 3;
    /**
     * Only a bound on the wait for ROTATIONS rotations (they take about ROTATIONS × the interval),
     * so that a server that never rotates fails with the counts below rather than a timeout.
     */
    const ROTATIONS_WITHIN_MS = 90_000;
    let target: ProcessTarget;
    let database: TestDatabase;
    let instances: ServerProcess[] = [];
    let clientSecret: string;

    beforeAll(async () => {
      target = await postgresTarget();
      clientSecret = (await seedTarget(target, { clients: [{ id: 'two-instances', grantTypes: ['client_credentials'], scopes: ['read'] }] }))[
        'two-instances'
      ] as string;
      ({ database } = await target.open());
      const env = {
        ...target.env,
        // Errors of the key timer ("key refresh failed") are looked for below.
        LOG_LEVEL: 'warn',
        KEY_ROTATION_INTERVAL: `${ROTATION_INTERVAL_MS / 1000}s`,
        KEY_PUBLISH_AHEAD: '1s',
        ISSUER: 'http://gatehouse.test',
        ACCESS_TOKEN_TTL: '15m',
      };
      const ports = await freePorts(2);
      // Started together on a table without keys: they also race to create the first ones.
      const started = await Promise.allSettled(ports.map((port) => startServerProcess(env, { port })));
      instances = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
      const failed = started.find((s) => s.status === 'rejected');
      if (failed) throw failed.reason;
    }, PROCESS_TEST_TIMEOUT_MS);

    afterAll(async () => {
      await Promise.all(instances.map((instance) => instance.stop()));
      await database?.close();
      await target?.dispose();
    });

    async function issue(instance: ServerProcess): Promise<string> {
      const answer = await postTokenTo(instance.baseUrl, { grant_type: 'client_credentials' }, { basic: ['two-instances', clientSecret] });
      if (answer.status !== 200) throw new Error(`token request failed: ${answer.status} ${JSON.stringify(answer.body)}`);
      return answer.body.access_token as string;
    }

    async function jwksOf(instance: ServerProcess): Promise<JSONWebKeySet> {
      return (await (await fetch(`${instance.baseUrl}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
    }

    it(
      'rotates once per interval, and each token is signed by a key that was current at most 10 s before',
      async () => {
        const [first, second] = instances as [ServerProcess, ServerProcess];
        const issued: { instance: number; kid: string; receivedAt: number }[] = [];
        const failures: string[] = [];
        const deadline = Date.now() + ROTATIONS_WITHIN_MS;

        while (Date.now() < deadline) {
          for (const [index, instance, other] of [
            [0, first, second],
            [1, second, first],
          ] as const) {
            const token = await issue(instance);
            issued.push({ instance: index, kid: kidOf(token), receivedAt: Date.now() });
            // A resource server behind the same load balancer may fetch the JWKS from the other one.
            try {
              await jwtVerify(token, createLocalJWKSet(await jwksOf(other)), { issuer: 'http://gatehouse.test', algorithms: ['RS256'] });
            } catch (error) {
              failures.push(`${kidOf(token)} from instance ${index}: ${(error as Error).message}`);
            }
          }
          if (activations(await listSigningKeys(database.db)).length > ROTATIONS) break;
          await new Promise((done) => setTimeout(done, 50));
        }

        const keys = await listSigningKeys(database.db);
        const times = activations(keys);
        expect(failures).toEqual([]);
        expect(times.length).toBeGreaterThan(ROTATIONS);
        // Exactly once per interval: no two activations closer than the interval (two instances
        // rotating on the same due time would show as a gap of milliseconds) …
        expect(gaps(times).filter((gap) => gap < ROTATION_INTERVAL_MS)).toEqual([]);
        // … and no key created by an instance that lost the race: only the ones that signed, and one next.
        expect(keys.filter((k) => k.activatedAt === null).map((k) => k.state)).toEqual(['next']);

        const byKid = new Map(keys.map((k) => [k.kid, k]));
        for (const token of issued) {
          const key = byKid.get(token.kid);
          expect(key?.activatedAt).toBeInstanceOf(Date);
          const staleFor = key!.retiredAt ? token.receivedAt - key!.retiredAt.getTime() : 0;
          expect({ ...token, signedWithinBound: staleFor <= PICKUP_BOUND_MS }).toEqual({ ...token, signedWithinBound: true });
        }
        // Each instance moved on to new keys (with the bound above: each followed every rotation
        // within 10 s, so at any moment both sign with the same kid or are about to).
        const kidsOf = (instance: number): Set<string> => new Set(issued.filter((t) => t.instance === instance).map((t) => t.kid));
        expect(kidsOf(0).size).toBeGreaterThan(1);
        expect(kidsOf(1).size).toBeGreaterThan(1);
        expect(instances.map((i) => i.stdout() + i.stderr()).join('')).not.toMatch(/key refresh failed/);
      },
      PROCESS_TEST_TIMEOUT_MS,
    );
  },
);
