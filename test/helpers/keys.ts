import { decodeProtectedHeader, type JSONWebKeySet } from 'jose';
import type { SigningKey } from '../../src/store/signing-keys-repository.js';
import type { TestServer } from './server.js';
import { clientCredentialsToken } from './token.js';

/** Helpers shared by the key tests: kids of tokens and of the published JWKS. */

export function kidOf(token: string): string {
  return decodeProtectedHeader(token).kid as string;
}

export function kidsOf(jwks: JSONWebKeySet): string[] {
  return jwks.keys.map((k) => k.kid as string).sort();
}

/** GET /.well-known/jwks.json as a resource server sees it. */
export async function fetchJwks(server: TestServer): Promise<JSONWebKeySet> {
  const response = await server.http.get('/.well-known/jwks.json');
  return JSON.parse(response.text) as JSONWebKeySet;
}

/** A client_credentials client on `server`, and a function that returns a fresh access token. */
export async function tokenIssuer(server: TestServer, id = 'key-test-client'): Promise<() => Promise<string>> {
  const client = await server.createClient({ id, grantTypes: ['client_credentials'], scopes: ['read'] });
  return () => clientCredentialsToken(server, client);
}

/** Rotations recorded in the table: activation times of every key that ever signed, in order. */
export function activations(keys: readonly SigningKey[]): number[] {
  return keys
    .filter((k) => k.activatedAt !== null)
    .map((k) => k.activatedAt!.getTime())
    .sort((a, b) => a - b);
}

/** The intervals between consecutive times. */
export function gaps(times: number[]): number[] {
  return times.slice(1).map((time, i) => time - times[i]!);
}
