/**
 * Usernames, after RFC 8265 (PRECIS) where it matters for a login name: one Unicode form, and no
 * character that is invisible or changes how the name around it is displayed.
 *
 * - Normalised to NFC (RFC 8265 §3.4.3 rule 2): "José" typed precomposed or decomposed is one name.
 * - Refused: the Unicode general categories Cc (controls), Cf (format: bidirectional overrides,
 *   embeddings, isolates and marks, zero-width space and joiners, soft hyphen, BOM), Zl and Zp (line
 *   and paragraph separators), Cs (lone surrogates), Co (private use) and Cn (unassigned code points
 *   and noncharacters).
 * - 1 to 255 UTF-16 code units after normalisation, no white space at either end.
 *
 * Case and width are kept as given, as in the PRECIS UsernameCasePreserved profile for case; its
 * width mapping and its refusal of spaces and symbols are not applied, so every name that does not
 * hold a refused character stays valid.
 */
const REFUSED_CHARACTER = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Co}\p{Cn}]/u;
const REFUSED_CHARACTERS = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Co}\p{Cn}]/gu;
export const MAX_USERNAME_LENGTH = 255;

/** `username` is the NFC form either way; `problem` says, safely shown, why no user can have it. */
export type UsernameCheck = { valid: true; username: string } | { valid: false; username: string; problem: string };

const codePoint = (character: string): string => `U+${(character.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;

export function checkUsername(value: string): UsernameCheck {
  const username = value.normalize('NFC');
  const refused = REFUSED_CHARACTER.exec(username)?.[0];
  if (refused !== undefined) {
    return {
      valid: false,
      username,
      problem: `a username may not contain ${codePoint(refused)}: control, format (bidirectional, zero-width), line or paragraph separator, surrogate, private-use and unassigned characters are refused`,
    };
  }
  if (username.length < 1 || username.length > MAX_USERNAME_LENGTH)
    return { valid: false, username, problem: `a username is 1 to ${MAX_USERNAME_LENGTH} characters` };
  if (username.trim() !== username) return { valid: false, username, problem: 'a username may not begin or end with white space' };
  return { valid: true, username };
}

/** For showing a name that may hold refused characters (a CSV row, a log): each one as U+XXXX. */
export function escapeUsername(value: string): string {
  return value.replace(REFUSED_CHARACTERS, (character) => `<${codePoint(character)}>`);
}
