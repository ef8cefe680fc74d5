import { SingleBar, Presets } from 'cli-progress';
import { parse } from 'csv-parse/sync';
import { OAuthError } from '../errors.js';
import { parseScope } from '../lib/scope.js';
import { CLI_ACTOR } from '../services/actor.js';
import { createUser, type UserChangeDeps } from '../services/users.js';

export interface ImportResult {
  created: number;
  failed: { line: number; username: string; error: string }[];
}

const COLUMNS = ['username', 'password', 'email', 'name', 'scopes'];

/**
 * Creates users from a CSV file with a header row: username,password[,email][,name][,scopes]
 * (scopes space-separated). Each row stands alone: a bad row is reported and the rest go on.
 * Argon2 makes each row cost ~20 ms, so a progress bar shows when `progress` is a terminal
 * (none when the command runs inside the server).
 */
export async function importUsers(deps: UserChangeDeps, csv: string, progress: NodeJS.WriteStream | undefined): Promise<ImportResult> {
  const records = parse<Record<string, string>>(csv, { columns: true, skip_empty_lines: true, trim: true, bom: true });
  const header = Object.keys(records[0] ?? {});
  const unknown = header.filter((column) => !COLUMNS.includes(column));
  if (unknown.length > 0) throw new Error(`unknown CSV column(s): ${unknown.join(', ')} (expected ${COLUMNS.join(', ')})`);
  const bar = progress?.isTTY
    ? new SingleBar({ format: 'importing users [{bar}] {value}/{total} {eta_formatted}', stream: progress }, Presets.shades_classic)
    : undefined;
  bar?.start(records.length, 0);
  const result: ImportResult = { created: 0, failed: [] };
  for (const [index, record] of records.entries()) {
    const username = record.username ?? '';
    try {
      await createUser(
        deps,
        { username, password: record.password ?? '', email: record.email || null, name: record.name || null, scopes: parseScope(record.scopes) },
        CLI_ACTOR,
      );
      result.created += 1;
    } catch (error) {
      // Line numbers count the header as line 1.
      result.failed.push({ line: index + 2, username, error: error instanceof OAuthError ? error.description : (error as Error).message });
    }
    bar?.increment();
  }
  bar?.stop();
  return result;
}
