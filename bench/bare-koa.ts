/**
 * The bound for JWKS and metadata: a bare Koa app answering a small JSON body, as many node:cluster
 * workers as the server runs (WEB_CONCURRENCY). Started by bench/run.ts on PORT.
 */
import cluster from 'node:cluster';
import Koa from 'koa';

const workers = Number(process.env.WEB_CONCURRENCY ?? 1);
if (workers > 1 && cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
  process.on('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill('SIGTERM');
    process.exit(0);
  });
} else {
  const app = new Koa();
  app.use((ctx) => {
    ctx.body = { ok: true, keys: [] };
  });
  app.listen(Number(process.env.PORT), '127.0.0.1');
  process.on('SIGTERM', () => process.exit(0));
}
