import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import request from 'supertest';
import { createApp, type GatehouseApp } from '../../src/app.js';
import { answerUnparseableRequests } from '../../src/http/unparseable-requests.js';
import { loadConfig, type Config } from '../../src/config.js';
import { closeDeps, createDeps, type Deps } from '../../src/deps.js';
import { systemClock, type Clock } from '../../src/lib/clock.js';
import { CLI_ACTOR } from '../../src/services/actor.js';
import { createClient, type ClientInput } from '../../src/services/clients.js';
import { createUser, type UserInput } from '../../src/services/users.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { preMadeKeyPair } from './key-pairs.js';

export const TEST_KEY_ENCRYPTION_SECRET = 'test-key-encryption-secret-0123456789abcdef';

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({ KEY_ENCRYPTION_SECRET: TEST_KEY_ENCRYPTION_SECRET, LOG_LEVEL: 'silent', ...overrides });
}

export interface TestServer {
  deps: Deps;
  app: GatehouseApp;
  database: TestDatabase;
  /** supertest bound to the app. */
  http: ReturnType<typeof request>;
  /** http://127.0.0.1:port — the issuer, for clients that need a real URL (JWKS, discovery). */
  baseUrl: string;
  clock: Clock;
  createClient(input: Partial<ClientInput> & { id: string }): Promise<{ clientId: string; clientSecret: string | null }>;
  createUser(input: Partial<UserInput> & { username: string }): Promise<{ id: string; username: string; password: string }>;
  close(): Promise<void>;
}

/**
 * A Gatehouse on a fresh database, listening on a random loopback port whose URL is the issuer
 * (followed by `issuerPath` when given). `env` overrides configuration variables (as strings, like
 * the environment).
 */
export async function startTestServer(
  options: {
    env?: Record<string, string>;
    clock?: Clock;
    database?: TestDatabase;
    logger?: Logger;
    issuerPath?: string;
    /** How long the instance remembers a client authentication (default: CLIENT_AUTH_CACHE_TTL_MS). */
    clientAuthCacheTtlMs?: number;
  } = {},
): Promise<TestServer> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  const database = options.database ?? (await createTestDatabase());
  const clock = options.clock ?? systemClock;
  const config = testConfig({ ISSUER: `${baseUrl}${options.issuerPath ?? ''}`, ...options.env });
  const deps = await createDeps(config, database.db, {
    clock,
    logger: options.logger ?? pino({ level: 'silent' }),
    ...(options.clientAuthCacheTtlMs !== undefined ? { clientAuthCacheTtlMs: options.clientAuthCacheTtlMs } : {}),
    newKeyPair: preMadeKeyPair,
  });
  const app = createApp(deps);
  answerUnparseableRequests(server, app.allowedMethodsAt);
  const handle = app.callback();
  server.on('request', (request, response) => void handle(request, response));
  return {
    deps,
    app,
    database,
    http: request(app.callback()),
    baseUrl,
    clock,
    async createClient(input) {
      const { client, clientSecret } = await createClient(
        deps,
        { grantTypes: ['password', 'refresh_token', 'client_credentials'], scopes: ['read', 'write'], ...input },
        CLI_ACTOR,
      );
      return { clientId: client.id, clientSecret };
    },
    async createUser(input) {
      const password = input.password ?? `pw-${input.username}-secret`;
      const user = await createUser(deps, { scopes: ['read', 'write'], ...input, password }, CLI_ACTOR);
      return { id: user.id, username: user.username, password };
    },
    async close() {
      await closeDeps(deps);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await database.close();
    },
  };
}

export function basicAuth(clientId: string, secret: string): string {
  const encode = (value: string): string => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(secret)}`).toString('base64')}`;
}
