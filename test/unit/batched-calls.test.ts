import { batchedCalls } from '../../src/lib/batched-calls.js';

describe('batchedCalls', () => {
  it('answers each call with its own item’s answer, one run for the calls of one pass', async () => {
    const runs: number[][] = [];
    const double = batchedCalls<number, number>({
      maxBatch: 10,
      maxInFlight: 1,
      run: async (items) => {
        runs.push(items);
        return items.map((item) => item * 2);
      },
    });
    expect(await Promise.all([1, 2, 3].map((item) => double(item)))).toEqual([2, 4, 6]);
    expect(runs).toEqual([[1, 2, 3]]);
  });

  it('holds at most maxBatch items per run and maxInFlight runs at once', async () => {
    let running = 0;
    let mostRunning = 0;
    const sizes: number[] = [];
    const echo = batchedCalls<number, number>({
      maxBatch: 3,
      maxInFlight: 2,
      run: async (items) => {
        running++;
        mostRunning = Math.max(mostRunning, running);
        sizes.push(items.length);
        await new Promise((resolve) => setTimeout(resolve, 5));
        running--;
        return items;
      },
    });
    const items = Array.from({ length: 10 }, (_, index) => index);
    expect(await Promise.all(items.map((item) => echo(item)))).toEqual(items);
    expect(sizes).toEqual([3, 3, 3, 1]);
    expect(mostRunning).toBe(2);
  });

  it('rejects every call of a failed run, thrown or rejected, and runs the next batch afresh', async () => {
    let fail: 'throw' | 'reject' | undefined = 'throw';
    const call = batchedCalls<number, number>({
      maxBatch: 10,
      maxInFlight: 1,
      run: (items) => {
        if (fail === 'throw') throw new Error('thrown');
        if (fail === 'reject') return Promise.reject(new Error('rejected'));
        return Promise.resolve(items);
      },
    });
    await expect(Promise.all([call(1), call(2)])).rejects.toThrow('thrown');
    fail = 'reject';
    await expect(call(3)).rejects.toThrow('rejected');
    fail = undefined;
    expect(await Promise.all([call(4), call(5)])).toEqual([4, 5]);
  });
});
