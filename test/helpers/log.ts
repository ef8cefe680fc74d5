import { Writable } from 'node:stream';

/** A stream for a pino logger that collects each line it writes into `lines` (to assert on logs). */
export function lineCollector(lines: string[]): Writable {
  return new Writable({
    write(chunk, _encoding, done) {
      lines.push(
        ...chunk
          .toString()
          .split('\n')
          .filter((line: string) => line !== ''),
      );
      done();
    },
  });
}
