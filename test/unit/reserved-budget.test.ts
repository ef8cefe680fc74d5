import { RateLimiterMemory } from 'rate-limiter-flexible';
import { createReservedBudget } from '../../src/services/reserved-budget.js';

/** A shared store (as rate_limits is for every instance) that counts its increments. */
function countingStore(points: number) {
  const store = new RateLimiterMemory({ keyPrefix: 'test', points, duration: 60 });
  const calls = { count: 0 };
  const consume = store.consume.bind(store);
  store.consume = (key, amount) => {
    calls.count++;
    return consume(key, amount);
  };
  return { store, calls };
}

async function allowedOf(budget: ReturnType<typeof createReservedBudget>, key: string, requests: number): Promise<number> {
  const answers = await Promise.all(Array.from({ length: requests }, () => budget.consume(key)));
  return answers.filter((answer) => answer.allowed).length;
}

describe('a request budget reserved from a shared counter in batches', () => {
  it('allows exactly the limit on one instance, with far fewer writes to the shared counter than requests', async () => {
    const { store, calls } = countingStore(600);
    const budget = createReservedBudget(store, 600);
    let allowed = 0;
    for (let i = 0; i < 700; i++) if ((await budget.consume('198.51.100.1')).allowed) allowed++;
    expect(allowed).toBe(600);
    expect(calls.count).toBeLessThan(100);
    // Once the store said nothing is left, refusals come from memory until the window ends.
    const before = calls.count;
    const refused = await budget.consume('198.51.100.1');
    expect(refused).toMatchObject({ allowed: false });
    expect(refused.allowed === false && refused.msBeforeNext).toBeGreaterThan(0);
    expect(calls.count).toBe(before);
  });

  it('allows exactly the limit for requests that arrive at once', async () => {
    const { store } = countingStore(50);
    expect(await allowedOf(createReservedBudget(store, 50), '198.51.100.2', 80)).toBe(50);
  });

  it('never allows more than the limit across instances sharing the counter, and refuses at most a batch per other instance early', async () => {
    const { store } = countingStore(100);
    const instances = [createReservedBudget(store, 100), createReservedBudget(store, 100), createReservedBudget(store, 100)];
    let allowed = 0;
    for (let i = 0; i < 300; i++) if ((await instances[i % 3]!.consume('198.51.100.3')).allowed) allowed++;
    expect(allowed).toBeLessThanOrEqual(100);
    expect(allowed).toBeGreaterThanOrEqual(100 - 2 * 10);
  });
});
