import { runCli } from './main.js';

// The `gatehouse` executable (bin/gatehouse.js). Exit explicitly: a pool or a PGlite worker left
// open by a failure must not keep the CLI alive.
void runCli(process.argv).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`gatehouse: ${error instanceof Error ? (error.message.split('\n')[0] ?? 'failed') : String(error)}\n`);
    process.exit(1);
  },
);
