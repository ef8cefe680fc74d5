import { setBounded } from '../../src/lib/bounded-map.js';

describe('setBounded', () => {
  it('lets the entry added longest ago go when the map is full', () => {
    const map = new Map<string, number>();
    for (const [index, key] of ['a', 'b', 'c', 'd'].entries()) setBounded(map, 3, key, index);
    expect([...map]).toEqual([
      ['b', 1],
      ['c', 2],
      ['d', 3],
    ]);
  });

  it('replaces a key it holds without letting another go, and makes it the newest', () => {
    const map = new Map<string, number>();
    for (const [index, key] of ['a', 'b', 'c'].entries()) setBounded(map, 3, key, index);
    setBounded(map, 3, 'a', 9);
    expect([...map]).toEqual([
      ['b', 1],
      ['c', 2],
      ['a', 9],
    ]);
    setBounded(map, 3, 'd', 4);
    expect([...map.keys()]).toEqual(['c', 'a', 'd']);
  });
});
