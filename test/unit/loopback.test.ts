import { isLoopbackHost } from '../../src/lib/loopback.js';

describe('which HOST values reach only this machine', () => {
  it.each(['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', 'api.localhost', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1'])(
    '%s is loopback',
    (host) => {
      expect(isLoopbackHost(host)).toBe(true);
    },
  );

  it.each(['0.0.0.0', '::', '[::]', '10.0.0.1', '192.168.1.10', '::ffff:10.0.0.1', 'example.com', 'localhost.example.com', '128.0.0.1', 'fe80::1'])(
    '%s is not',
    (host) => {
      expect(isLoopbackHost(host)).toBe(false);
    },
  );
});
