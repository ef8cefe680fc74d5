/**
 * Puts `key` in a map that holds at most `maxEntries`: the key goes last (newest), and when the map
 * is full the entry added longest ago goes first. The bounded caches of keys, proof headers and
 * verified tokens all keep their size this way.
 */
export function setBounded<Key, Value>(map: Map<Key, Value>, maxEntries: number, key: Key, value: Value): void {
  map.delete(key);
  if (map.size >= maxEntries) map.delete(map.keys().next().value as Key);
  map.set(key, value);
}
