import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { KeyService } from '../keys/key-service.js';
import type { Clock } from '../lib/clock.js';
import { connectionPoolUsage, type Database } from '../store/database.js';

/** Prometheus metrics of one app: its own registry, so several apps can live in one process (tests). */
export interface Metrics {
  registry: Registry;
  httpRequestDuration: Histogram<'method' | 'route' | 'status'>;
  tokensIssued: Counter<'grant_type'>;
  refreshReuseDetected: Counter;
  revocations: Counter<'source'>;
  failedLogins: Counter;
  rateLimitRejections: Counter<'limit'>;
}

export function createMetrics(db: Database, keys: KeyService, clock: Clock): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'gatehouse_signing_key_age_seconds',
    help: 'How long the current signing key has been signing',
    registers: [registry],
    collect() {
      const current = keys.list().find((k) => k.state === 'current');
      if (current) this.set((clock.now().getTime() - (current.activatedAt ?? current.createdAt).getTime()) / 1000);
    },
  });
  new Gauge({
    name: 'gatehouse_db_pool_connections_in_use',
    help: 'Database connections checked out of the pool',
    registers: [registry],
    collect() {
      this.set(connectionPoolUsage(db).inUse);
    },
  });
  new Gauge({
    name: 'gatehouse_db_pool_acquires_waiting',
    help: 'Requests waiting for a database connection',
    registers: [registry],
    collect() {
      this.set(connectionPoolUsage(db).waiting);
    },
  });
  return {
    registry,
    httpRequestDuration: new Histogram({
      name: 'gatehouse_http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    tokensIssued: new Counter({
      name: 'gatehouse_tokens_issued_total',
      help: 'Token responses by grant type',
      labelNames: ['grant_type'],
      registers: [registry],
    }),
    refreshReuseDetected: new Counter({
      name: 'gatehouse_refresh_token_reuse_total',
      help: 'Used refresh tokens presented again (each revoked its grant)',
      registers: [registry],
    }),
    revocations: new Counter({ name: 'gatehouse_revocations_total', help: 'Revocations by source', labelNames: ['source'], registers: [registry] }),
    failedLogins: new Counter({ name: 'gatehouse_failed_logins_total', help: 'Password grants refused for wrong credentials', registers: [registry] }),
    rateLimitRejections: new Counter({
      name: 'gatehouse_rate_limit_rejections_total',
      help: 'Requests refused with 429 by limit',
      labelNames: ['limit'],
      registers: [registry],
    }),
  };
}
