/**
 * The load generator: a child process of bench/run.ts (so it never shares the server's event loop).
 * It receives one job at a time over IPC and answers with its result:
 *   - `http`: one autocannon run of a named workload,
 *   - `refreshSql`: the refresh grant's statements alone, through the server's own repository code.
 */
import { createPrivateKey, randomUUID, sign, type JsonWebKey } from 'node:crypto';
import autocannon from 'autocannon';
import { dpopProofMaker } from './dpop-proof.js';

type Job =
  | { kind: 'http'; id: number; workload: string; url: string; connections: number; duration: number; amount?: number; data: WorkloadData }
  | { kind: 'refreshSql'; id: number; seconds: number; concurrency: number; poolMax: number; databaseUrl: string; clientId: string; userId: string };

export interface WorkloadData {
  basic?: string;
  username?: string;
  password?: string;
  /** refresh: one refresh token per connection (each its own family). */
  refreshTokens?: string[];
  /** introspection / revocation: the token(s) to send. */
  tokens?: string[];
  hint?: string;
  /** GET workloads: the path. */
  path?: string;
  /** POST workloads: a path other than the workload's usual one (a peer's introspection endpoint). */
  requestPath?: string;
  /** client_credentials: more form fields (a peer's `resource`). */
  extraBody?: Record<string, string>;
  /** Each request comes from one of this many addresses, in X-Forwarded-For (10.0.0.0/16). */
  sources?: number;
  /** DPoP workloads: the private JWK of each connection's key (refresh_dpop: the key its family is bound to). */
  dpopKeys?: JsonWebKey[];
  /** refresh_dpop: the public client the families belong to (client_id in the body, no secret). */
  clientId?: string;
  /** DPoP workloads: the token endpoint URL, the proofs' htu. */
  htu?: string;
  /** private_key_jwt: the client, its private key (JWK) and its algorithm, and the issuer (aud of the assertions). */
  assertion?: { clientId: string; alg: 'ES256' | 'RS256'; privateJwk: JsonWebKey; kid: string; audience: string };
}

/** A fresh RFC 7523 client assertion (ES256 or RS256), made synchronously for each request. */
function clientAssertionMaker(assertion: NonNullable<WorkloadData['assertion']>): () => string {
  const key = createPrivateKey({ key: assertion.privateJwk, format: 'jwk' });
  const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const header = encode({ alg: assertion.alg, kid: assertion.kid, typ: 'JWT' });
  // ES256 signatures are r || s (RFC 7518 §3.4), not DER; RS256 is PKCS #1 v1.5, node's default.
  const options = assertion.alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' as const } : { key };
  return () => {
    const now = Math.floor(Date.now() / 1000);
    const input = `${header}.${encode({ iss: assertion.clientId, sub: assertion.clientId, aud: assertion.audience, iat: now, exp: now + 60, jti: randomUUID() })}`;
    return `${input}.${sign('sha256', Buffer.from(input), options).toString('base64url')}`;
  };
}

/**
 * `make`, with `count` results made before the run starts and handed out first: a proof or an
 * assertion is the client's work, and signing it during the run would take CPU from the server on
 * this same machine (the load generator shares its cores). Once they are used up, each call makes
 * a fresh one. Every result is still used once, and made seconds before it is sent at most.
 */
function madeAhead(make: () => string, count: number): () => string {
  const ready = Array.from({ length: count }, make);
  let next = 0;
  return () => (next < ready.length ? ready[next++]! : make());
}

/** Proofs or assertions made ahead per workload run: more than one run sends at this machine's speed. */
const madeAheadCount = (seconds: number): number => Math.ceil(Math.max(1, seconds) * 4000);

const form = (values: Record<string, string>): string => new URLSearchParams(values).toString();
const FORM = 'application/x-www-form-urlencoded';

/** autocannon's options plus the path of a plain run (it is joined to the URL below). */
type WorkloadOptions = Partial<autocannon.Options> & { path?: string };

/** The autocannon options of one workload. Bodies are built per request where they change. */
function workloadOptions(workload: string, data: WorkloadData, seconds: number): WorkloadOptions {
  const headers = { 'content-type': FORM, authorization: data.basic ?? '' };
  switch (workload) {
    case 'password':
      return { method: 'POST', path: '/token', headers, body: form({ grant_type: 'password', username: data.username!, password: data.password! }) };
    case 'client_credentials':
      return { method: 'POST', path: '/token', headers, body: form({ grant_type: 'client_credentials', ...data.extraBody }) };
    case 'client_credentials_private_key_jwt':
    case 'client_credentials_private_key_jwt_rs256': {
      // Whole bodies made ahead, as the plain workload's one body is: the load generator then does
      // the same work per request for both.
      const makeAssertion = clientAssertionMaker(data.assertion!);
      const body = madeAhead(
        () =>
          form({
            grant_type: 'client_credentials',
            client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
            client_assertion: makeAssertion(),
          }),
        madeAheadCount(seconds),
      );
      return {
        requests: [
          {
            method: 'POST',
            path: '/token',
            headers: { 'content-type': FORM },
            setupRequest: (request: any) => {
              request.body = body();
              return request;
            },
          },
        ],
      };
    }
    case 'client_credentials_dpop': {
      // One key, a fresh proof (new jti) on every request.
      const proof = madeAhead(dpopProofMaker(data.dpopKeys![0]!, data.htu!), madeAheadCount(seconds));
      const body = form({ grant_type: 'client_credentials' });
      return {
        requests: [{ method: 'POST', path: '/token', setupRequest: (request: any) => ({ ...request, headers: { ...headers, dpop: proof() }, body }) }],
      };
    }
    case 'refresh_dpop':
    case 'refresh': {
      // Each connection holds its own family and always presents the token it just received. The
      // state lives in a closure per connection (setupClient): autocannon resets a request's
      // `context` every time it loops over its `requests`.
      // refresh_dpop: a public client's families, each bound to its connection's key; a fresh proof
      // by that key on every request.
      // Every family's proofs are made here, before autocannon starts its clock: made in setupClient,
      // they would be made inside the measured duration (autocannon sets up its connections after
      // it has started timing), and the run would count the seconds spent signing them.
      const proofsPerFamily = Math.ceil(madeAheadCount(seconds) / Math.max(1, data.refreshTokens?.length ?? 1));
      const pool = (data.refreshTokens ?? []).map((token, index) => {
        const key = data.dpopKeys?.[index];
        return { token, proof: key ? madeAhead(dpopProofMaker(key, data.htu!), proofsPerFamily) : undefined };
      });
      const refreshRequest = (state: { token: string; proof?: (() => string) | undefined }) => ({
        method: 'POST',
        path: '/token',
        headers,
        setupRequest: (request: any) => {
          request.body = form({ grant_type: 'refresh_token', refresh_token: state.token, ...(state.proof ? { client_id: data.clientId! } : {}) });
          if (state.proof) request.headers = { 'content-type': FORM, dpop: state.proof() };
          return request;
        },
        onResponse: (status: number, body: string) => {
          if (status === 200) state.token = JSON.parse(body).refresh_token;
        },
      });
      return {
        requests: [refreshRequest({ token: 'unused' })],
        setupClient: (client: any) => {
          const family = pool.shift();
          client.setRequests([refreshRequest({ token: family?.token ?? 'exhausted', proof: family?.proof })]);
        },
      } as WorkloadOptions;
    }
    case 'introspect_access':
    case 'introspect_refresh':
      return { method: 'POST', path: data.requestPath ?? '/introspect', headers, body: form({ token: data.tokens![0]!, token_type_hint: data.hint! }) };
    case 'revoke': {
      let next = 0;
      const tokens = data.tokens!;
      return {
        requests: [
          {
            method: 'POST',
            path: '/revoke',
            headers,
            setupRequest: (request: any) => {
              request.body = form({ token: tokens[next++ % tokens.length]!, token_type_hint: 'access_token' });
              return request;
            },
          },
        ],
      };
    }
    case 'get':
      return { method: 'GET', path: data.path! };
    default:
      throw new Error(`unknown workload ${workload}`);
  }
}

/**
 * Spreads the requests over `sources` client addresses: each request carries the next one in
 * X-Forwarded-For (honoured by a server with TRUST_PROXY=true, ignored otherwise).
 */
function fromManySources(options: WorkloadOptions, sources: number): WorkloadOptions {
  let next = 0;
  const address = (): string => {
    const n = next++ % sources;
    return `10.0.${(n >> 8) & 255}.${n & 255}`;
  };
  const plain = options.requests ? undefined : { method: options.method, path: options.path, headers: options.headers, body: options.body };
  const requests = (options.requests ?? [plain]).map((request: any) => ({
    ...request,
    setupRequest: (outgoing: any, context: any) => {
      const prepared = request.setupRequest ? request.setupRequest(outgoing, context) : outgoing;
      prepared.headers = { ...prepared.headers, 'x-forwarded-for': address() };
      return prepared;
    },
  }));
  const setupClient = (options as any).setupClient as ((client: any) => void) | undefined;
  return {
    ...options,
    requests,
    ...(setupClient && {
      // The refresh workload sets its requests per connection: wrap those too.
      setupClient: (client: any) => {
        const setRequests = client.setRequests.bind(client);
        client.setRequests = (own: any[]) => setRequests(fromManySources({ requests: own }, sources).requests);
        setupClient(client);
      },
    }),
  };
}

async function runHttp(job: Extract<Job, { kind: 'http' }>) {
  const own = workloadOptions(job.workload, job.data, job.amount ? 2 : job.duration);
  const options = job.data.sources ? fromManySources(own, job.data.sources) : own;
  // From here on: the proofs and assertions made ahead (above) are the client's work before the
  // run, not load on the server's cores during it.
  const cpuBefore = process.cpuUsage();
  const result = await autocannon({
    ...options,
    // autocannon takes the path of plain runs from the URL, not from `path`.
    url: `${job.url}${options.path ?? '/token'}`,
    connections: job.connections,
    // A number of requests (a warm-up that reaches every source address), else a duration.
    ...(job.amount ? { amount: job.amount } : { duration: job.duration }),
    pipelining: 1,
    // An argon2-bound password run at 200 connections queues for seconds: not a timeout.
    timeout: job.workload === 'password' ? 30 : 10,
  });
  const cpu = process.cpuUsage(cpuBefore);
  return {
    loadCpuMicros: cpu.user + cpu.system,
    requests: result.requests.total,
    rps: result.requests.total / ((result as any).duration || job.duration),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    non2xx: result.non2xx,
    statusCodes: Object.fromEntries(Object.entries((result as any).statusCodeStats ?? {}).map(([code, stats]: [string, any]) => [code, stats.count])),
  };
}

/**
 * The refresh grant's database work alone, through the server's own store functions in the order
 * grants/refresh-token.ts runs them, `concurrency` families at once on a pool as large as the
 * server's (10 connections per worker).
 */
async function runRefreshSql(job: Extract<Job, { kind: 'refreshSql' }>) {
  const { refreshSqlBound } = await import('./refresh-sql.js');
  return refreshSqlBound(job);
}

process.on('message', (job: Job) => {
  const run = job.kind === 'http' ? runHttp(job) : runRefreshSql(job);
  run.then(
    (result) => process.send!({ id: job.id, result }),
    (error: unknown) => process.send!({ id: job.id, error: error instanceof Error ? error.stack : String(error) }),
  );
});
process.send!({ ready: true });
