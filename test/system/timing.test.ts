import { startTestServer, type TestServer } from '../helpers/server.js';
import { postTokenTo, type TestClientAuth, type TokenAnswer } from '../helpers/token.js';

/**
 * No enumeration by message or by timing (RFC 9700 §4.15, OWASP ASVS 2.2): an unknown username and
 * a wrong password get the same answer in the same time, and so do an unknown client and a wrong
 * client secret.
 *
 * How the times are compared, so that a busy machine cannot fail the test: the two kinds of request
 * run interleaved, in rounds of four, A B B A then B A A B and so on. Within a round both kinds take
 * the first, second, third and fourth place equally (the places sum alike: 1 + 4 = 2 + 3), so load
 * that rises or falls during a round, or that always hits the request after another, weighs on both
 * alike. Each round gives one ratio, (A + A) / (B + B); the statistic is the median of those ratios
 * over many rounds. A burst of load that slows a few requests spoils a few rounds, on either side,
 * and the median ignores them. A real difference moves every round the same way: an unknown user
 * answered without the argon2 work takes a tenth of the time or less, every round.
 */

/** A password round costs four argon2 verifications (about 0.2 s on an idle machine). */
const PASSWORD_ROUNDS = 25;
/** Client authentication costs a few milliseconds: rounds are cheap, so many. */
const CLIENT_ROUNDS = 101;
/**
 * Bounds on the median round ratio. Measured: 0.96–1.02 on an idle machine, 0.91–1.11 with the
 * machine loaded to 4–8 runnable processes per core; an unknown user answered without the argon2 work
 * gives 0.17, idle or loaded.
 */
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

/** Through the listening server, as a client would, the same way for both kinds of request. */
function post(auth: TestClientAuth, form: Record<string, string>): Promise<TokenAnswer> {
  return postTokenTo(server.baseUrl, form, auth);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/**
 * Runs `a` and `b` in `rounds` rounds of four (A B B A, then B A A B, …) after a warm-up; returns
 * every answer, the median time of each kind, and the median of the rounds' ratios (A + A) / (B + B).
 */
async function compare(rounds: number, a: () => Promise<TokenAnswer>, b: () => Promise<TokenAnswer>) {
  for (let i = 0; i < 3; i++) await Promise.all([a(), b()].map((p) => p.catch(() => undefined)));
  const requests = [a, b] as const;
  const answers: [TokenAnswer[], TokenAnswer[]] = [[], []];
  const times: [number[], number[]] = [[], []];
  const ratios: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? ([0, 1, 1, 0] as const) : ([1, 0, 0, 1] as const);
    const spent: [number, number] = [0, 0];
    for (const which of order) {
      const started = process.hrtime.bigint();
      const answer = await requests[which]();
      const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
      spent[which] += elapsed;
      times[which].push(elapsed);
      answers[which].push(answer);
    }
    ratios.push(spent[0] / spent[1]);
  }
  return { answers, medians: [median(times[0]), median(times[1])] as const, ratio: median(ratios) };
}

/** Status, error body and the headers a client could tell apart. */
function visible(answer: TokenAnswer): unknown {
  return { status: answer.status, body: answer.body, challenge: answer.headers.get('www-authenticate') };
}

function report(what: string, medians: readonly [number, number], ratio: number): void {
  if (process.env.DEBUG_TIMING)
    process.stderr.write(`${what}: ${medians[0].toFixed(2)} ms vs ${medians[1].toFixed(2)} ms (medians), median round ratio ${ratio.toFixed(3)}\n`);
}

describe('an unknown username and a wrong password are indistinguishable', () => {
  test('same answer, and the median response time ratio is within 0.75–1.33', async () => {
    const auth: TestClientAuth = { basic: [client.clientId, client.clientSecret] };
    let round = 0;
    const { answers, medians, ratio } = await compare(
      PASSWORD_ROUNDS,
      // A different unknown name each time, so nothing can be cached per name.
      () => post(auth, { grant_type: 'password', username: `nobody-${round++}`, password: 'a guessed password' }),
      () => post(auth, { grant_type: 'password', username: 'timing-alice', password: 'a guessed password' }),
    );
    const first = visible(answers[0][0] as TokenAnswer);
    expect(first).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    for (const answer of [...answers[0], ...answers[1]]) expect(visible(answer)).toEqual(first);
    report('password: unknown user vs wrong password', medians, ratio);
    expect(ratio).toBeGreaterThanOrEqual(RATIO_BOUNDS[0]);
    expect(ratio).toBeLessThanOrEqual(RATIO_BOUNDS[1]);
  }, 120_000);
});

describe('an unknown client and a wrong client secret are indistinguishable', () => {
  test('same answer, and the median response time ratio is within 0.75–1.33', async () => {
    let round = 0;
    const wrongSecret = `${client.clientSecret.slice(0, -4)}AAAA`;
    const { answers, medians, ratio } = await compare(
      CLIENT_ROUNDS,
      () => post({ basic: [`unknown-client-${round++}`, wrongSecret] }, { grant_type: 'client_credentials' }),
      () => post({ basic: [client.clientId, wrongSecret] }, { grant_type: 'client_credentials' }),
    );
    const first = visible(answers[0][0] as TokenAnswer);
    expect(first).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    for (const answer of [...answers[0], ...answers[1]]) expect(visible(answer)).toEqual(first);
    report('client: unknown client vs wrong secret', medians, ratio);
    expect(ratio).toBeGreaterThanOrEqual(RATIO_BOUNDS[0]);
    expect(ratio).toBeLessThanOrEqual(RATIO_BOUNDS[1]);
  }, 120_000);
});
