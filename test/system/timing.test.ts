import supertest, { type Response } from 'supertest';
import { basicAuth, startTestServer, type TestServer } from '../helpers/server.js';

/**
 * No enumeration by message or by timing (RFC 9700 §4.15, OWASP ASVS 2.2): an unknown username and
 * a wrong password get the same answer in the same time, and so do an unknown client and a wrong
 * client secret. Measured as the median of the time ratios of interleaved pairs of requests.
 */

const PASSWORD_SAMPLES = 15;
/** Client authentication costs a millisecond or two, so more samples keep the median steady. */
const CLIENT_SAMPLES = 41;
const RATIO_BOUNDS = [0.75, 1.33] as const;

let server: TestServer;
let client: { clientId: string; clientSecret: string };

beforeAll(async () => {
  // Lockout and rate limits answer 429 after a few failures: here every request must reach the check.
  server = await startTestServer({ env: { LOCKOUT_THRESHOLD: '0', RATE_LIMIT_PER_IP: '0' } });
  const created = await server.createClient({ id: 'timing-app' });
  client = { clientId: created.clientId, clientSecret: created.clientSecret as string };
  await server.createUser({ username: 'timing-alice', password: 'the right password for alice' });
});

afterAll(() => server?.close());

function post(authorization: string, form: Record<string, string>): Promise<Response> {
  // Through the listening server, as a client would, the same way for both kinds of request.
  return supertest(server.baseUrl).post('/token').set('Authorization', authorization).type('form').send(form);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/**
 * Runs `a` and `b` alternately (the order flips every round, so drift in the machine's load hits
 * both alike), after a warm-up; returns every answer, the median time of each, and the median ratio.
 */
async function compare(samples: number, a: () => Promise<Response>, b: () => Promise<Response>) {
  for (let i = 0; i < 3; i++) await Promise.all([a(), b()].map((p) => p.catch(() => undefined)));
  const times: [number[], number[]] = [[], []];
  const answers: [Response[], Response[]] = [[], []];
  const measure = async (which: 0 | 1): Promise<void> => {
    const started = process.hrtime.bigint();
    const response = await (which === 0 ? a() : b());
    times[which].push(Number(process.hrtime.bigint() - started) / 1e6);
    answers[which].push(response);
  };
  for (let i = 0; i < samples; i++) {
    if (i % 2 === 0) {
      await measure(0);
      await measure(1);
    } else {
      await measure(1);
      await measure(0);
    }
  }
  const medians = [median(times[0]), median(times[1])] as const;
  // The median of the ratios of neighbouring requests: load that comes and goes cancels out.
  const ratio = median(times[0].map((time, i) => time / (times[1][i] as number)));
  return { answers, medians, ratio };
}

/** Status, error body and the headers a client could tell apart. */
function visible(response: Response): unknown {
  return { status: response.status, body: response.body, challenge: response.headers['www-authenticate'] ?? null };
}

describe('an unknown username and a wrong password are indistinguishable', () => {
  test('same answer, and the median response time ratio is within 0.75–1.33', async () => {
    const authorization = basicAuth(client.clientId, client.clientSecret);
    let round = 0;
    const { answers, medians, ratio } = await compare(
      PASSWORD_SAMPLES,
      // A different unknown name each time, so nothing can be cached per name.
      () => post(authorization, { grant_type: 'password', username: `nobody-${round++}`, password: 'a guessed password' }),
      () => post(authorization, { grant_type: 'password', username: 'timing-alice', password: 'a guessed password' }),
    );
    const first = visible(answers[0][0] as Response);
    expect(first).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    for (const response of [...answers[0], ...answers[1]]) expect(visible(response)).toEqual(first);
    if (process.env.DEBUG_TIMING) process.stderr.write(`password: unknown user ${medians[0].toFixed(1)} ms, wrong password ${medians[1].toFixed(1)} ms, ratio ${ratio.toFixed(2)}\n`);
    expect(ratio).toBeGreaterThanOrEqual(RATIO_BOUNDS[0]);
    expect(ratio).toBeLessThanOrEqual(RATIO_BOUNDS[1]);
  }, 60_000);
});

describe('an unknown client and a wrong client secret are indistinguishable', () => {
  test('same answer, and the median response time ratio is within 0.75–1.33', async () => {
    let round = 0;
    const wrongSecret = `${client.clientSecret.slice(0, -4)}AAAA`;
    const { answers, medians, ratio } = await compare(
      CLIENT_SAMPLES,
      () => post(basicAuth(`unknown-client-${round++}`, wrongSecret), { grant_type: 'client_credentials' }),
      () => post(basicAuth(client.clientId, wrongSecret), { grant_type: 'client_credentials' }),
    );
    const first = visible(answers[0][0] as Response);
    expect(first).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    for (const response of [...answers[0], ...answers[1]]) expect(visible(response)).toEqual(first);
    if (process.env.DEBUG_TIMING) process.stderr.write(`client: unknown client ${medians[0].toFixed(2)} ms, wrong secret ${medians[1].toFixed(2)} ms, ratio ${ratio.toFixed(2)}\n`);
    expect(ratio).toBeGreaterThanOrEqual(RATIO_BOUNDS[0]);
    expect(ratio).toBeLessThanOrEqual(RATIO_BOUNDS[1]);
  }, 60_000);
});
