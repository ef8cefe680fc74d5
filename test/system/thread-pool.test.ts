import { readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { PROCESS_TEST_TIMEOUT_MS, startServerProcess, type ServerProcess } from '../helpers/process.js';
import { embeddedTarget, type ProcessTarget } from '../helpers/targets.js';

/**
 * `npm start` (bin/serve.cjs) sizes libuv's thread pool, which signs every token, to the machine:
 * one thread per core, at least two, unless the operator set UV_THREADPOOL_SIZE. Seen from outside
 * as the server's thread count: two servers that differ only in their pool differ by exactly that
 * many threads (the pool starts whole, when the server's own modules are read through it).
 */
const threadCount = (pid: number): number => readdirSync(`/proc/${pid}/task`).length;

describe('the libuv thread pool of a server started as npm start does', () => {
  const targets: ProcessTarget[] = [];
  const servers: ServerProcess[] = [];

  afterAll(async () => {
    for (const server of servers) await server.kill();
    for (const target of targets) await target.dispose();
  });

  it(
    'has one thread per core (at least two) by default, and the operator’s UV_THREADPOOL_SIZE otherwise',
    async () => {
      const start = async (poolSize: string): Promise<ServerProcess> => {
        const target = embeddedTarget();
        targets.push(target);
        const server = await startServerProcess({ ...target.env, UV_THREADPOOL_SIZE: poolSize });
        servers.push(server);
        return server;
      };
      // '' is unset for bin/serve.cjs; 9 is more than any default here could be on this test's machines.
      const [sized, chosen] = await Promise.all([start(''), start('9')]);
      // Both are up: their pools started whole while their modules loaded.
      for (const server of [sized, chosen]) expect((await fetch(`${server.baseUrl}/readyz`)).status).toBe(200);
      const expected = Math.max(2, availableParallelism());
      expect(threadCount(chosen.child.pid!) - threadCount(sized.child.pid!)).toBe(9 - expected);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});
