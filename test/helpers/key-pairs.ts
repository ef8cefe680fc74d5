import { createPrivateKey, createPublicKey, generateKeyPair, randomBytes, randomInt, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { newRsaKeyPair, type NewKeyPair } from '../../src/keys/rotation.js';

/**
 * RSA 2048 key pairs made beforehand for the signing keys of test servers. Each server makes two
 * keys as it starts (current and next), and an RSA key takes a quarter of a second of CPU or more:
 * a few minutes over the integration tiers. The pool is made once per machine (in the system's
 * temporary directory, like the database snapshot); within a test file no pair is handed out twice
 * (a kid is the key's thumbprint), and a file that needs more than the pool holds gets new ones.
 * Key generation itself is still run by every server process the system tests start.
 */
const POOL_SIZE = 48;
const POOL_PATH = join(tmpdir(), `gatehouse-test-rsa-2048-pool-${POOL_SIZE}.json`);

let pool: Promise<KeyObject[]> | undefined;

async function loadPool(): Promise<KeyObject[]> {
  if (!existsSync(POOL_PATH)) {
    const generate = promisify(generateKeyPair);
    const pems = await Promise.all(
      Array.from({ length: POOL_SIZE }, async () => {
        const { privateKey } = await generate('rsa', { modulusLength: 2048 });
        return privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
      }),
    );
    // Written aside and renamed: a parallel worker never reads half a file. Private keys: the owner's only.
    const partial = `${POOL_PATH}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(partial, JSON.stringify(pems), { mode: 0o600 });
    renameSync(partial, POOL_PATH);
  }
  return (JSON.parse(readFileSync(POOL_PATH, 'utf8')) as string[]).map((pem) => createPrivateKey(pem));
}

/** Pool entries handed out in this test file (jest loads this module anew for each file). */
const handedOut = new Set<number>();
let cursor = randomInt(POOL_SIZE);

/** The pool's pairs, from a random place in it, each once in a test file; then new ones. */
export const preMadeKeyPair: NewKeyPair = async () => {
  pool ??= loadPool();
  const keys = await pool;
  if (handedOut.size >= keys.length) return newRsaKeyPair();
  while (handedOut.has(cursor % keys.length)) cursor++;
  handedOut.add(cursor % keys.length);
  const privateKey = keys[cursor % keys.length] as KeyObject;
  return { privateKey, publicKey: createPublicKey(privateKey) };
};
