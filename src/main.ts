// First: V8 settings before the rest of the server allocates (src/v8-settings.ts).
import './v8-settings.js';
import cluster from 'node:cluster';
import type { Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { createApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { serveCliSocket } from './cli/serve-socket.js';
import { cliSocketPath } from './cli/socket.js';
import { ensureConsoleClient } from './console/console-client.js';
import { closeDeps, createDeps, type Deps } from './deps.js';
import { keyRefreshIntervalMs } from './keys/policy.js';
import { answerUnparseableRequests } from './http/unparseable-requests.js';
import { isLoopbackHost } from './lib/loopback.js';
import { createLogger } from './logger.js';
import { applyMigrations, closeConfiguredDatabase, openConfiguredDatabase, operatorErrorMessage } from './runtime.js';
import { cleanUpExpiredRows } from './services/housekeeping.js';

/** In-flight requests get this long after SIGTERM before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 10_000;
/** How often each instance deletes expired rows (safe to overlap across instances). */
const CLEANUP_INTERVAL_MS = 10 * 60_000;

/**
 * Settings that are fine on loopback and worth one line otherwise: without METRICS_TOKEN, /metrics
 * answers whoever reaches HOST; a defaulted ISSUER (http://localhost:$PORT) is not the URL that
 * anybody on another machine uses, and strict clients compare it with the URL they discovered from.
 */
function warnAboutOpenHost(config: Config, logger: Logger): void {
  if (isLoopbackHost(config.host)) return;
  if (config.metricsToken === undefined) {
    logger.warn({ host: config.host }, 'GET /metrics is open to anyone who can reach HOST; set METRICS_TOKEN to require a bearer token');
  }
  if (config.issuerDefaulted) {
    logger.warn(
      { host: config.host, issuer: config.issuer },
      'ISSUER is not set while HOST is not a loopback address: tokens and metadata name http://localhost; set ISSUER to the URL clients use',
    );
  }
}

async function serve(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel);
  // Once per start: here when single-process, in the primary (below) when there are workers.
  if (cluster.isPrimary) {
    warnAboutOpenHost(config, logger);
    await ensureListenable(config);
  }
  const { config: complete, db } = await openConfiguredDatabase(config, { migrate: false, logger });
  // Embedded: the CLI sends its commands here while this server holds DATA_DIR (src/cli/socket.ts).
  // Listening from the moment DATA_DIR is ours, a command sent during the start waits for the services.
  let servicesReady: (deps: Deps) => void = () => undefined;
  const readyDeps = new Promise<Deps>((resolveDeps) => (servicesReady = resolveDeps));
  const cliSocket = complete.databaseUrl ? undefined : await serveCliSocket(readyDeps, logger, cliSocketPath(complete.dataDir));
  await applyMigrations(db);
  const deps = await createDeps(complete, db, { logger });
  // Admin console (src/console/): its client exists whenever the console is served.
  await ensureConsoleClient(deps);
  servicesReady(deps);
  deps.keys.start(keyRefreshIntervalMs(complete), (error) => logger.error({ err: error }, 'key refresh failed'));
  const cleanup = setInterval(() => {
    cleanUpExpiredRows(db, deps.clock.now(), { auditRetention: complete.auditRetention })
      .then((deleted) => logger.debug({ deleted }, 'clean-up done'))
      .catch((error: unknown) => logger.warn({ err: error }, 'clean-up failed'));
  }, CLEANUP_INTERVAL_MS);
  cleanup.unref();
  const app = createApp(deps);
  const server: Server = app.listen(config.port, config.host);
  answerUnparseableRequests(server, app.allowedMethodsAt);
  await new Promise<void>((resolveListen, reject) => {
    server.once('listening', resolveListen);
    server.once('error', (error: NodeJS.ErrnoException) => reject(listenError(error, config)));
  });
  // The port bound, which PORT=0 leaves to the system.
  const port = (server.address() as AddressInfo | null)?.port ?? config.port;
  logger.info({ issuer: config.issuer, port, host: config.host, database: config.databaseUrl ? 'postgresql' : 'embedded' }, 'gatehouse listening');

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    void closeDeps(deps);
    clearInterval(cleanup);
    const force = setTimeout(() => {
      server.closeAllConnections();
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    // Keep-alive connections go as soon as their request is answered, not after the idle timeout.
    app.draining = true;
    const closeIdle = setInterval(() => server.closeIdleConnections(), 100);
    closeIdle.unref();
    server.close(() => {
      Promise.resolve(cliSocket?.close())
        .then(() => closeConfiguredDatabase(db))
        .catch((error: unknown) => logger.error({ err: error }, 'closing the database failed'))
        .finally(() => process.exit(0));
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/**
 * Fails at once, as listenError says, when HOST and PORT cannot be listened on: before the database
 * opens, so that a taken port does not first start (or create and migrate) an embedded database,
 * seconds of work, only to stop. The address is let go again at once; the server listens on it once
 * its services are ready (a process that takes it in between still fails the start, as listenError says).
 */
async function ensureListenable(config: Pick<Config, 'host' | 'port'>): Promise<void> {
  if (config.port === 0) return;
  const probe = createNetServer();
  await new Promise<void>((resolveListen, reject) => {
    probe.once('error', (error: NodeJS.ErrnoException) => reject(listenError(error, config)));
    probe.listen(config.port, config.host, resolveListen);
  });
  await new Promise<void>((resolveClose) => probe.close(() => resolveClose()));
}

/** A failure to listen, as the setting that causes it (HOST or PORT), when it is one. */
function listenError(error: NodeJS.ErrnoException, config: Pick<Config, 'host' | 'port'>): Error {
  switch (error.code) {
    case 'EADDRINUSE':
      return new ConfigError('PORT', `port ${config.port} on ${config.host} is in use by another process`);
    case 'EACCES':
      return new ConfigError('PORT', `not allowed to listen on port ${config.port} (ports below 1024 need privileges)`);
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAFNOSUPPORT':
      return new ConfigError('HOST', `cannot listen on ${config.host}: no such address on this machine (${error.code})`);
    default:
      return error;
  }
}

function fail(error: unknown): never {
  const known = operatorErrorMessage(error);
  if (known !== undefined) {
    process.stderr.write(`gatehouse: ${known}\n`);
  } else {
    // One line, never a stack trace: a driver error can span several lines.
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`gatehouse: could not start: ${message.split('\n')[0] ?? 'failed'}\n`);
  }
  process.exit(1);
}

async function main(): Promise<void> {
  const config = loadConfig();
  // The embedded database lives in one process, so it runs a single worker.
  const workers = config.databaseUrl ? config.webConcurrency : 1;
  if (workers > 1 && cluster.isPrimary) {
    warnAboutOpenHost(config, createLogger(config.logLevel));
    await ensureListenable(config);
    // Migrate and create keys once, in the primary, before the workers race to do it.
    const { config: complete, db } = await openConfiguredDatabase(config, { migrate: true });
    const prepared = await createDeps(complete, db, { logger: createLogger('silent') });
    await closeDeps(prepared);
    await closeConfiguredDatabase(db);
    for (let i = 0; i < workers; i++) cluster.fork();
    cluster.on('exit', (worker, code, signal) => {
      if (!stopping) {
        process.stderr.write(`gatehouse: worker ${worker.process.pid} exited (${signal ?? code}); starting another\n`);
        cluster.fork();
      }
    });
    let stopping = false;
    const stopAll = (): void => {
      stopping = true;
      for (const worker of Object.values(cluster.workers ?? {})) worker?.kill('SIGTERM');
    };
    process.on('SIGTERM', stopAll);
    process.on('SIGINT', stopAll);
    return;
  }
  await serve(config);
}

main().catch(fail);
