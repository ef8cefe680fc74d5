import { startTestServer, basicAuth, type TestServer } from '../helpers/server.js';
import { TestClock } from '../helpers/clock.js';
import { createTestDatabase, describeWithPostgres } from '../helpers/database.js';
import { postToken, postTokenTo } from '../helpers/token.js';

interface LoginAnswer {
  status: number;
  error: string | undefined;
  retryAfter: number;
}

/**
 * Password grants over real HTTP (fetch against the listening server), so concurrent requests
 * really are concurrent. `ip` becomes X-Forwarded-For, which counts only with TRUST_PROXY=true.
 */
function loginAs(server: () => TestServer, secret: () => string) {
  return async (username: string, password: string, ip?: string): Promise<LoginAnswer> => {
    const forwarded: Record<string, string> = ip === undefined ? {} : { 'X-Forwarded-For': ip };
    const response = await postTokenTo(server().baseUrl, { grant_type: 'password', username, password }, { basic: ['app', secret()] }, forwarded);
    return { status: response.status, error: response.body.error as string | undefined, retryAfter: Number(response.headers.get('retry-after')) };
  };
}

/** Repeats `attempt` until `done` holds or `withinMs` has passed; the caller asserts on the last answer. */
async function pollUntil<T>(attempt: () => Promise<T>, done: (answer: T) => boolean, withinMs = 20_000): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const answer = await attempt();
    if (done(answer) || Date.now() > deadline) return answer;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Passwords this server has checked and found wrong (gatehouse_failed_logins_total): one per verification. */
async function failedVerifications(server: TestServer): Promise<number> {
  const text = await (await fetch(`${server.baseUrl}/metrics`)).text();
  return Number(/^gatehouse_failed_logins_total (\d+)$/m.exec(text)?.[1] ?? 0);
}

function count(answers: LoginAnswer[], predicate: (answer: LoginAnswer) => boolean): number {
  return answers.filter(predicate).length;
}

function shuffle<T>(items: T[]): T[] {
  const result = [...items];
  for (let i = result.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [result[i], result[j]] = [result[j] as T, result[i] as T];
  }
  return result;
}

/**
 * For the describe block it is called in: a server with these settings, a password client `app`,
 * and users named `usernames` whose password is "<username> password". `login` signs in there.
 */
function loginServer(options: { env: Record<string, string>; clock?: TestClock; usernames: string[] }) {
  let server: TestServer;
  let secret: string;
  beforeAll(async () => {
    server = await startTestServer({ env: options.env, ...(options.clock ? { clock: options.clock } : {}) });
    secret = (await server.createClient({ id: 'app', grantTypes: ['password'] })).clientSecret as string;
    for (const username of options.usernames) await server.createUser({ username, password: `${username} password` });
  });
  afterAll(() => server.close());
  return {
    server: () => server,
    login: loginAs(
      () => server,
      () => secret,
    ),
  };
}

describe('consecutive failed passwords lock the username (LOCKOUT_THRESHOLD, LOCKOUT_DURATION)', () => {
  const clock = new TestClock();
  // RateLimiterMemory / RateLimiterPostgres keep real time; the clock only moves token logic.
  const { server, login } = loginServer({ clock, env: { LOCKOUT_THRESHOLD: '3', LOCKOUT_DURATION: '2s' }, usernames: ['alice', 'bob'] });
  const unlocked = (answer: LoginAnswer) => answer.status !== 429;

  it('locks after the threshold, refuses even the right password with 429 + Retry-After, and unlocks after the lock', async () => {
    for (let i = 0; i < 3; i++) expect((await login('alice', 'wrong')).error).toBe('invalid_grant');
    const locked = await login('alice', 'alice password');
    expect(locked.status).toBe(429);
    expect(locked.error).toBe('too_many_requests');
    expect(locked.retryAfter).toBeGreaterThanOrEqual(1);
    expect(locked.retryAfter).toBeLessThanOrEqual(2);
    // Other usernames are not affected.
    expect((await login('bob', 'bob password')).status).toBe(200);
    expect((await pollUntil(() => login('alice', 'alice password'), unlocked)).status).toBe(200);
  });

  it('doubles the lock each further time', async () => {
    for (let i = 0; i < 3; i++) await login('bob', 'wrong');
    const first = await login('bob', 'bob password');
    expect(first.status).toBe(429);
    expect(first.retryAfter).toBeLessThanOrEqual(2);
    // Wrong passwords, not the right one: a success would reset the count of locks. The first answer
    // after the lock is already the first failure of the next round.
    expect((await pollUntil(() => login('bob', 'wrong'), unlocked)).error).toBe('invalid_grant');
    for (let i = 0; i < 2; i++) expect((await login('bob', 'wrong')).error).toBe('invalid_grant');
    const second = await login('bob', 'bob password');
    expect(second.status).toBe(429);
    expect(second.retryAfter).toBeGreaterThan(2);
    expect(second.retryAfter).toBeLessThanOrEqual(4);
  });

  it('a success resets the count of failures', async () => {
    await server().createUser({ username: 'carol', password: 'carol password' });
    for (let round = 0; round < 3; round++) {
      expect((await login('carol', 'wrong')).status).toBe(400);
      expect((await login('carol', 'wrong')).status).toBe(400);
      expect((await login('carol', 'carol password')).status).toBe(200);
    }
  });

  it('locks unknown usernames the same way (no enumeration)', async () => {
    for (let i = 0; i < 3; i++) expect((await login('nobody', 'wrong')).error).toBe('invalid_grant');
    expect((await login('nobody', 'wrong')).status).toBe(429);
  });

  it('counts a username in its NFC form, however it is spelled', async () => {
    const composed = 'Jos\u00e9';
    const decomposed = 'Jose\u0301';
    await login(composed, 'wrong');
    await login(decomposed, 'wrong');
    await login(composed, 'wrong');
    expect((await login(decomposed, 'wrong')).status).toBe(429);
  });
});

describe('parallel guesses are checked at most LOCKOUT_THRESHOLD times, however they are timed', () => {
  // Default LOCKOUT_THRESHOLD (5); a long lock, so that nothing expires during a burst.
  const { server, login } = loginServer({ env: { LOCKOUT_DURATION: '1h' }, usernames: ['dave', 'erin'] });

  it('40 grants at once, 39 wrong and the right one: no token, at most 5 verified, the rest 429', async () => {
    const before = await failedVerifications(server());
    const guesses = shuffle(Array.from({ length: 39 }, (_, i) => `wrong guess ${i}`));
    // The right password goes somewhere in the second half. Were it among the first few attempts to
    // arrive, its 200 would be right: the lock bounds how many guesses are checked, and a lucky
    // first guess is still a right password.
    guesses.splice(20 + Math.floor(Math.random() * 20), 0, 'dave password');
    const answers = await Promise.all(guesses.map((password) => login('dave', password)));

    expect(count(answers, (a) => a.status === 200)).toBe(0);
    const refusedAsWrong = count(answers, (a) => a.error === 'invalid_grant');
    expect(refusedAsWrong).toBeGreaterThanOrEqual(1);
    expect(refusedAsWrong).toBeLessThanOrEqual(5);
    expect(count(answers, (a) => a.status === 429 && a.error === 'too_many_requests' && a.retryAfter >= 1)).toBe(40 - refusedAsWrong);
    // The server checked exactly the passwords it answered invalid_grant for.
    expect((await failedVerifications(server())) - before).toBe(refusedAsWrong);
    // And the lock holds afterwards, for the right password too.
    expect((await login('dave', 'dave password')).status).toBe(429);
  });

  it('100 wrong passwords at once: at most 5 are checked', async () => {
    const before = await failedVerifications(server());
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => login('erin', `wrong guess ${i}`)));
    const refusedAsWrong = count(answers, (a) => a.error === 'invalid_grant');
    expect(refusedAsWrong).toBeLessThanOrEqual(5);
    expect(count(answers, (a) => a.status === 429)).toBe(100 - refusedAsWrong);
    expect((await failedVerifications(server())) - before).toBe(refusedAsWrong);
    expect(answers.every((a) => a.status < 500)).toBe(true);
  });
});

describe('the lock is per username and client IP; all IPs together meet LOCKOUT_GLOBAL_THRESHOLD', () => {
  // X-Forwarded-For gives each request its client IP: the right-most entry counts.
  const { server, login } = loginServer({
    env: { TRUST_PROXY: 'true', LOCKOUT_THRESHOLD: '3', LOCKOUT_GLOBAL_THRESHOLD: '6', LOCKOUT_DURATION: '1h' },
    usernames: ['frank', 'grace', 'heidi', 'ivan', 'judy', 'mallory'],
  });
  let nextAddress = 1;
  /** A fresh client IP (TEST-NET-3), each test its own. */
  const address = (): string => `203.0.113.${nextAddress++}`;
  const addresses = (n: number): string[] => Array.from({ length: n }, address);

  it('wrong passwords from one IP lock that IP only: the user still logs in from another', async () => {
    const [attacker, owner] = addresses(2) as [string, string];
    for (let i = 0; i < 3; i++) expect((await login('frank', 'wrong', attacker)).error).toBe('invalid_grant');
    const locked = await login('frank', 'frank password', attacker);
    expect(locked).toMatchObject({ status: 429, error: 'too_many_requests' });
    expect(locked.retryAfter).toBeGreaterThan(3000);
    expect(locked.retryAfter).toBeLessThanOrEqual(3600);
    expect((await login('frank', 'frank password', owner)).status).toBe(200);
    // Only the right-most X-Forwarded-For entry counts: a client cannot pick its address.
    expect((await login('frank', 'frank password', `${owner}, ${attacker}`)).status).toBe(429);
  });

  it('refused attempts from a locked IP do not count towards the lock for every source', async () => {
    const [attacker, owner] = addresses(2) as [string, string];
    for (let i = 0; i < 3; i++) await login('grace', 'wrong', attacker);
    for (let i = 0; i < 20; i++) expect((await login('grace', 'wrong', attacker)).status).toBe(429);
    // 3 failures so far; 2 more from the owner's IP stay below 6.
    for (let i = 0; i < 2; i++) expect((await login('grace', 'typo', owner)).error).toBe('invalid_grant');
    expect((await login('grace', 'grace password', owner)).status).toBe(200);
  });

  it('failures spread over many IPs lock the username for every source at LOCKOUT_GLOBAL_THRESHOLD', async () => {
    for (const ip of addresses(3)) {
      for (let i = 0; i < 2; i++) expect((await login('heidi', 'wrong', ip)).error).toBe('invalid_grant');
    }
    const elsewhere = await login('heidi', 'heidi password', address());
    expect(elsewhere).toMatchObject({ status: 429, error: 'too_many_requests' });
    expect(elsewhere.retryAfter).toBeGreaterThan(3000);
    expect(elsewhere.retryAfter).toBeLessThanOrEqual(3600);
  });

  it('a success gives back its own attempt but does not forget failures from elsewhere', async () => {
    const [first, second, owner] = addresses(3) as [string, string, string];
    for (let i = 0; i < 2; i++) await login('ivan', 'wrong', first);
    for (let i = 0; i < 2; i++) await login('ivan', 'wrong', second);
    expect((await login('ivan', 'typo', owner)).error).toBe('invalid_grant');
    for (let i = 0; i < 3; i++) expect((await login('ivan', 'ivan password', owner)).status).toBe(200);
    // Five failures in all: the sixth, from any IP, locks the username everywhere.
    expect((await login('ivan', 'wrong', address())).error).toBe('invalid_grant');
    expect((await login('ivan', 'ivan password', owner)).status).toBe(429);
  });

  it('100 wrong passwords at once from 100 IPs: at most LOCKOUT_GLOBAL_THRESHOLD are checked', async () => {
    const before = await failedVerifications(server());
    const answers = await Promise.all(addresses(100).map((ip, i) => login('judy', `wrong guess ${i}`, ip)));
    const refusedAsWrong = count(answers, (a) => a.error === 'invalid_grant');
    expect(refusedAsWrong).toBeLessThanOrEqual(6);
    expect(count(answers, (a) => a.status === 429)).toBe(100 - refusedAsWrong);
    expect((await failedVerifications(server())) - before).toBe(refusedAsWrong);
    expect((await login('judy', 'judy password', address())).status).toBe(429);
  });

  it('locks unknown usernames exactly like known ones (no enumeration)', async () => {
    const lockedFromOneIp = async (username: string): Promise<[LoginAnswer, LoginAnswer]> => {
      const [attacker, other] = addresses(2) as [string, string];
      for (let i = 0; i < 3; i++) await login(username, 'wrong', attacker);
      return [await login(username, 'wrong', attacker), await login(username, 'wrong', other)];
    };
    const known = await lockedFromOneIp('mallory');
    const unknown = await lockedFromOneIp('nobody-at-all');
    expect(unknown.map((a) => [a.status, a.error])).toEqual(known.map((a) => [a.status, a.error]));
    expect(unknown.map((a) => [a.status, a.error])).toEqual([
      [429, 'too_many_requests'],
      [400, 'invalid_grant'],
    ]);
    // Then 2 more failures from elsewhere (6 in all) lock both for every source.
    for (const username of ['mallory', 'nobody-at-all']) {
      await login(username, 'wrong', address());
      expect((await login(username, 'wrong', address())).error).toBe('invalid_grant');
      expect((await login(username, 'wrong', address())).status).toBe(429);
    }
  });
});

describeWithPostgres('on PostgreSQL, two instances: a burst from one IP never locks the username for other sources', () => {
  const servers: TestServer[] = [];
  let secret: string;
  afterAll(() => Promise.all(servers.map((server) => server.close())));

  it('20 wrong passwords at once from one IP, over both instances, thirty times: the owner logs in from elsewhere every time', async () => {
    const database = await createTestDatabase();
    const env = { TRUST_PROXY: 'true', LOCKOUT_THRESHOLD: '3', LOCKOUT_GLOBAL_THRESHOLD: '6', LOCKOUT_DURATION: '1h', DATABASE_URL: database.url as string };
    for (let i = 0; i < 2; i++) servers.push(await startTestServer({ database, env }));
    secret = (await servers[0]!.createClient({ id: 'app', grantTypes: ['password'] })).clientSecret as string;
    const loginAt = (index: number) =>
      loginAs(
        () => servers[index % 2]!,
        () => secret,
      );
    // The counters are rows, and the two instances' connections race: the increments of a burst
    // reach the username's counter and the IP's in different orders. Only the attempts the IP may
    // still make may count towards the lock for every source: 3 of 6 here.
    for (let round = 0; round < 30; round++) {
      const username = `burst-${round}`;
      await servers[0]!.createUser({ username, password: `${username} password` });
      const attacker = `192.0.2.${round + 1}`;
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => loginAt(i)(username, `wrong ${i}`, attacker)));
      expect(count(answers, (a) => a.error === 'invalid_grant')).toBeLessThanOrEqual(3);
      expect({ round, status: (await loginAt(round)(username, `${username} password`, `192.0.2.${100 + round}`)).status }).toEqual({ round, status: 200 });
    }
  });
});

describe('Retry-After of a login lock is the longest lock that refuses the caller', () => {
  const { login } = loginServer({
    env: { TRUST_PROXY: 'true', LOCKOUT_THRESHOLD: '3', LOCKOUT_GLOBAL_THRESHOLD: '6', LOCKOUT_DURATION: '2s' },
    usernames: ['olivia'],
  });

  it('an IP in its second lock (4 s) while the username is in its first (2 s) is told the longer wait', async () => {
    const [attacker, other] = ['198.51.100.1', '198.51.100.2'];
    for (let i = 0; i < 3; i++) expect((await login('olivia', 'wrong', attacker)).error).toBe('invalid_grant');
    // The first answer after the IP's first lock is already the next round's first failure.
    expect(
      (
        await pollUntil(
          () => login('olivia', 'wrong', attacker),
          (answer) => answer.status !== 429,
        )
      ).error,
    ).toBe('invalid_grant');
    // Failures 5 and 6: the IP's second lock (4 s) and, with 6 in all, the username's first (2 s).
    for (let i = 0; i < 2; i++) expect((await login('olivia', 'wrong', attacker)).error).toBe('invalid_grant');
    const fromAttacker = await login('olivia', 'olivia password', attacker);
    const fromOther = await login('olivia', 'olivia password', other);
    expect([fromAttacker.status, fromOther.status]).toEqual([429, 429]);
    // Both locks began at the same failure: the IP's outlasts the username's by about 2 s.
    expect(fromAttacker.retryAfter).toBeGreaterThan(fromOther.retryAfter);
  });
});

describe('per-IP limits at /token (RATE_LIMIT_PER_IP)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { RATE_LIMIT_PER_IP: '20', LOCKOUT_THRESHOLD: '0' } });
    await server.createClient({ id: 'svc', grantTypes: ['client_credentials'], secret: 's'.repeat(40) });
  });
  afterAll(() => server.close());

  it('answers 429 with Retry-After past the per-minute budget', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 22; i++) {
      const response = await postToken(server, { grant_type: 'client_credentials' }, { basic: ['svc', 's'.repeat(40)] });
      statuses.push(response.status);
      if (response.status === 429) {
        expect(response.body.error).toBe('too_many_requests');
        expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
      }
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(20);
    expect(statuses.slice(20)).toEqual([429, 429]);
  });
});

describe('failed client authentications per IP are capped', () => {
  let server: TestServer;
  beforeAll(async () => {
    // RATE_LIMIT_PER_IP 50 → 10 failed client authentications a minute.
    server = await startTestServer({ env: { RATE_LIMIT_PER_IP: '50' } });
    await server.createClient({ id: 'svc', grantTypes: ['client_credentials'], secret: 's'.repeat(40) });
  });
  afterAll(() => server.close());

  it('answers 429 once the failures are used up, even for the right secret', async () => {
    for (let i = 0; i < 10; i++) {
      const wrong = await server.http
        .post('/introspect')
        .set('Authorization', basicAuth('svc', 'w'.repeat(40)))
        .type('form')
        .send({ token: 'x' });
      expect(wrong.status).toBe(401);
    }
    const refused = await server.http
      .post('/introspect')
      .set('Authorization', basicAuth('svc', 's'.repeat(40)))
      .type('form')
      .send({ token: 'x' });
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBeDefined();
  });
});
