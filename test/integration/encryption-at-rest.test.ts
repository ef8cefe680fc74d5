import { createPrivateKey, createPublicKey } from 'node:crypto';
import { CLI_ACTOR } from '../../src/services/actor.js';
import { createKeyService } from '../../src/keys/policy.js';
import { decryptPrivateKey, KeyDecryptionError } from '../../src/keys/key-crypto.js';
import { reencryptSigningKeys } from '../../src/keys/reencrypt.js';
import { TestClock } from '../helpers/clock.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { TEST_KEY_ENCRYPTION_SECRET, testConfig } from '../helpers/server.js';

const WRONG_SECRET = 'a-wrong-key-encryption-secret-0123456789';
const NEW_SECRET = 'the-next-key-encryption-secret-9876543210';

interface RawRow {
  kid: string;
  state: string;
  public_jwk: Record<string, unknown>;
  private_key_encrypted: string;
}

const clock = new TestClock();
let database: TestDatabase;

async function rawRows(): Promise<RawRow[]> {
  return database.db<RawRow>('signing_keys').select('*').orderBy('kid');
}

beforeAll(async () => {
  database = await createTestDatabase();
  await createKeyService(testConfig({ KEY_ROTATION_INTERVAL: '1h', KEY_PUBLISH_AHEAD: '10m' }), database.db, clock).initialize();
});
afterAll(async () => {
  await database?.close();
});

describe('the signing_keys table holds no plaintext private key', () => {
  it('stores an AES-256-GCM envelope that contains neither the PEM, nor the DER, nor any private JWK parameter', async () => {
    const rows = await rawRows();
    expect(rows.map((r) => r.state).sort()).toEqual(['current', 'next']);
    for (const row of rows) {
      const stored = JSON.stringify(row);
      expect(row.private_key_encrypted).toMatch(/^v1(\.[A-Za-z0-9_-]+){4}$/);
      expect(stored).not.toMatch(/PRIVATE KEY/);
      // What the plaintext would look like, taken from the decrypted key itself.
      const pem = decryptPrivateKey(TEST_KEY_ENCRYPTION_SECRET, row.private_key_encrypted);
      expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
      const der = pem.replace(/-----[^-]+-----|\s/g, '');
      const privateJwk = createPrivateKey(pem).export({ format: 'jwk' });
      for (const fragment of [
        der.slice(0, 64),
        der.slice(600, 664),
        privateJwk.d!,
        privateJwk.p!,
        privateJwk.q!,
        privateJwk.dp!,
        privateJwk.dq!,
        privateJwk.qi!,
      ]) {
        expect(stored.includes(fragment)).toBe(false);
        expect(stored.includes(Buffer.from(fragment, 'base64url').toString('base64').slice(0, 40))).toBe(false);
      }
      // The published half is public only, and belongs to the stored private half.
      expect(Object.keys(row.public_jwk).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
      expect(createPublicKey(createPrivateKey(pem)).export({ format: 'jwk' }).n).toBe(row.public_jwk.n);
    }
  });

  it('decrypts only with the right secret, and a tampered envelope does not decrypt at all', async () => {
    const [row] = await rawRows();
    expect(() => decryptPrivateKey(WRONG_SECRET, row!.private_key_encrypted)).toThrow(KeyDecryptionError);
    const parts = row!.private_key_encrypted.split('.');
    const ciphertext = Buffer.from(parts[4]!, 'base64url');
    ciphertext[0] = ciphertext[0]! ^ 1;
    parts[4] = ciphertext.toString('base64url');
    expect(() => decryptPrivateKey(TEST_KEY_ENCRYPTION_SECRET, parts.join('.'))).toThrow(KeyDecryptionError);
  });
});

describe('an instance started with a wrong KEY_ENCRYPTION_SECRET fails and writes nothing, even when a rotation is due', () => {
  it('rejects with KeyDecryptionError and leaves the table as it was', async () => {
    const before = await rawRows();
    clock.advance(2 * 3600);
    const wrong = createKeyService(
      testConfig({ KEY_ENCRYPTION_SECRET: WRONG_SECRET, KEY_ROTATION_INTERVAL: '1h', KEY_PUBLISH_AHEAD: '10m' }),
      database.db,
      clock,
    );
    await expect(wrong.initialize()).rejects.toBeInstanceOf(KeyDecryptionError);
    await expect(wrong.rotateNow({ actor: CLI_ACTOR })).rejects.toBeInstanceOf(KeyDecryptionError);
    expect(await rawRows()).toEqual(before);
    await expect(wrong.initialize()).rejects.toThrow(/^KEY_ENCRYPTION_SECRET does not decrypt the stored signing keys .*keys reencrypt --old-secret-stdin/);
  });
});

describe('re-encryption moves every private key to a new secret in one transaction', () => {
  it('refuses an old secret that opens nothing, and changes nothing', async () => {
    const before = await rawRows();
    await expect(reencryptSigningKeys(database.db, WRONG_SECRET, NEW_SECRET)).rejects.toThrow(KeyDecryptionError);
    expect(await rawRows()).toEqual(before);
  });

  it('re-encrypts all keys, which then open with the new secret only; a second run changes nothing', async () => {
    const before = await rawRows();
    expect(await reencryptSigningKeys(database.db, TEST_KEY_ENCRYPTION_SECRET, NEW_SECRET)).toEqual({ reencrypted: before.length, unchanged: 0 });
    const after = await rawRows();
    for (const [i, row] of after.entries()) {
      expect(row.private_key_encrypted).not.toBe(before[i]!.private_key_encrypted);
      expect(decryptPrivateKey(NEW_SECRET, row.private_key_encrypted)).toBe(decryptPrivateKey(TEST_KEY_ENCRYPTION_SECRET, before[i]!.private_key_encrypted));
      expect(() => decryptPrivateKey(TEST_KEY_ENCRYPTION_SECRET, row.private_key_encrypted)).toThrow(KeyDecryptionError);
    }
    expect(await reencryptSigningKeys(database.db, TEST_KEY_ENCRYPTION_SECRET, NEW_SECRET)).toEqual({ reencrypted: 0, unchanged: before.length });

    const keys = createKeyService(testConfig({ KEY_ENCRYPTION_SECRET: NEW_SECRET, KEY_ROTATION_INTERVAL: '1h', KEY_PUBLISH_AHEAD: '10m' }), database.db, clock);
    await keys.initialize();
    expect(keys.list().filter((k) => k.state === 'retired')).toHaveLength(1);
  });
});
