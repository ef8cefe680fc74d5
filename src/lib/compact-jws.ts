/** A JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Three base64url parts separated by dots. The signature may be empty here, so that an unsigned
 * (alg none) token reaches the algorithm check and is refused by name there.
 */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** The decoded header and payload of a compact JWS, NOT verified; undefined for anything else. */
export function decodeCompactJws(text: string): { header: Record<string, unknown> | undefined; payload: Record<string, unknown> | undefined } | undefined {
  if (!COMPACT_JWS.test(text)) return undefined;
  const [header, payload] = text.split('.') as [string, string, string];
  return { header: decodeJsonPart(header), payload: decodeJsonPart(payload) };
}

function decodeJsonPart(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return isJsonObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
