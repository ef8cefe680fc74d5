import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

/** Entries kept in memory before expired ones are swept out. */
const SWEEP_ABOVE_ENTRIES = 10_000;

/** The answer for one request: allowed, or refused until the window ends. */
export type BudgetAnswer = { allowed: true } | { allowed: false; msBeforeNext: number };

/** What one instance holds of a key's budget: requests it may still answer, until the window ends. */
interface Held {
  left: number;
  until: number;
  /** The key's remaining budget across every instance, as the store last said. */
  remaining: number;
}

/**
 * A budget of `points` requests per key and window, counted in a shared store (the rate_limits table),
 * which an instance draws on in reservations: one increment of the shared counter reserves several
 * requests (at most a tenth of the budget, and at most a quarter of what the store last said was left,
 * so reservations shrink to one request near the limit), which the instance then answers from memory.
 *
 * It never allows more than `points` in a window across all instances: every allowed request was
 * reserved in the shared counter first. On one instance it is exact (every reservation is spent there).
 * With N instances, requests another instance reserved but has not received yet count as made, so an
 * address can be refused up to (N − 1) × ⌈points / 10⌉ requests early.
 */
export function createReservedBudget(store: RateLimiterAbstract, points: number, now: () => number = Date.now) {
  const largestReservation = Math.max(1, Math.ceil(points / 10));
  const held = new Map<string, Held>();
  let sweepAbove = SWEEP_ABOVE_ENTRIES;

  const sweep = (at: number): void => {
    if (held.size <= sweepAbove) return;
    for (const [key, entry] of held) if (entry.until <= at) held.delete(key);
    sweepAbove = Math.max(SWEEP_ABOVE_ENTRIES, 2 * held.size);
  };

  /** Reservations under way, per key: requests that arrive meanwhile wait for them and draw on them. */
  const reserving = new Map<string, Promise<void>>();

  /** Reserves a batch for `key` and takes one request of it; the rest is kept for the next requests. */
  const reserve = async (key: string, remaining: number): Promise<BudgetAnswer> => {
    const size = Math.max(1, Math.min(largestReservation, Math.floor(remaining / 4)));
    let state: RateLimiterRes;
    try {
      state = await store.consume(key, size);
    } catch (result) {
      if (!(result instanceof RateLimiterRes)) throw result;
      state = result;
    }
    // Past the limit, only the part of the reservation that still fitted is granted.
    const granted = Math.max(0, Math.min(size, points - (state.consumedPoints - size)));
    const answeredAt = now();
    held.set(key, { left: Math.max(0, granted - 1), until: answeredAt + state.msBeforeNext, remaining: Math.max(0, points - state.consumedPoints) });
    sweep(answeredAt);
    return granted > 0 ? { allowed: true } : { allowed: false, msBeforeNext: state.msBeforeNext };
  };

  return {
    async consume(key: string): Promise<BudgetAnswer> {
      for (;;) {
        const at = now();
        const mine = held.get(key);
        const current = mine && mine.until > at ? mine : undefined;
        if (current && current.left > 0) {
          current.left--;
          return { allowed: true };
        }
        // Counters only grow within a window: once the store said none is left, it stays so until it ends.
        if (current && current.remaining === 0) return { allowed: false, msBeforeNext: current.until - at };
        const underway = reserving.get(key);
        if (!underway) {
          const answer = reserve(key, current?.remaining ?? points);
          const settled = answer.then(
            () => undefined,
            () => undefined,
          );
          reserving.set(key, settled);
          void settled.then(() => reserving.get(key) === settled && reserving.delete(key));
          return answer;
        }
        await underway;
      }
    },
  };
}
