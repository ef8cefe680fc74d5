import { isIP } from 'node:net';

/**
 * Whether a listen address reaches only this machine: `localhost` (and `*.localhost`, RFC 6761),
 * 127.0.0.0/8, `::1`, or an IPv4-mapped loopback address. `0.0.0.0`, `::` and every other address
 * or name count as reachable from elsewhere.
 */
export function isLoopbackHost(host: string): boolean {
  const name = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (isIP(name) === 4) return name.startsWith('127.');
  if (isIP(name) !== 6) return false;
  // The URL parser writes an IPv6 address in its one canonical form (compressed, IPv4 part in hex).
  const canonical = new URL(`http://[${name}]/`).hostname;
  return canonical === '[::1]' || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(canonical);
}
