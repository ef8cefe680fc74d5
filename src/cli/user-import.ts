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

/** A refusal of the whole file (its header): nothing is imported. */
function headerProblem(header: readonly string[]): string | undefined {
  const unknown = header.filter((column) => !COLUMNS.includes(column));
  if (unknown.length > 0) return `unknown CSV column(s): ${unknown.join(', ')} (expected ${COLUMNS.join(', ')})`;
  const twice = header.filter((column, index) => header.indexOf(column) !== index);
  if (twice.length > 0) return `the CSV header names ${[...new Set(twice)].join(', ')} twice`;
  const missing = ['username', 'password'].filter((column) => !header.includes(column));
  if (missing.length > 0) return `the CSV header lacks the required column(s): ${missing.join(', ')}`;
  return undefined;
}

/**
 * Creates users from a CSV file with a header row: username,password[,email][,name][,scopes]
 * (scopes space-separated). Each row stands alone: a bad row, a row with more fields than the
 * header included, is reported with its line in the file (the header is line 1; empty lines
 * count) and the rest go on. Argon2 makes each row cost ~20 ms, so a progress bar shows when
 * `progress` is a terminal (none when the command runs inside the server).
 */
export async function importUsers(deps: UserChangeDeps, csv: string, progress: NodeJS.WriteStream | undefined): Promise<ImportResult> {
  // Rows as arrays, so that a row of the wrong length is one failed row, not the end of the import;
  // a stray quote inside a field is kept as a character. `info` gives each row's line in the file.
  const rows = parse(csv, { skip_empty_lines: true, trim: true, bom: true, relax_column_count: true, relax_quotes: true, info: true }) as unknown as {
    record: string[];
    info: { lines: number };
  }[];
  const [headerRow, ...records] = rows;
  const header = headerRow?.record ?? [];
  const problem = headerRow ? headerProblem(header) : undefined;
  if (problem) throw new Error(problem);
  const bar = progress?.isTTY
    ? new SingleBar({ format: 'importing users [{bar}] {value}/{total} {eta_formatted}', stream: progress }, Presets.shades_classic)
    : undefined;
  bar?.start(records.length, 0);
  const result: ImportResult = { created: 0, failed: [] };
  for (const { record: fields, info } of records) {
    const record = Object.fromEntries(header.map((column, index) => [column, fields[index] ?? ''])) as Record<string, string>;
    const username = record.username ?? '';
    try {
      // Fewer fields: the trailing columns are empty (spreadsheets leave empty last cells out). More:
      // which column a field belongs to is a guess, so the row is refused.
      if (fields.length > header.length) throw new Error(`the row has ${fields.length} fields, the header ${header.length} columns`);
      await createUser(
        deps,
        { username, password: record.password ?? '', email: record.email || null, name: record.name || null, scopes: parseScope(record.scopes) },
        CLI_ACTOR,
      );
      result.created += 1;
    } catch (error) {
      result.failed.push({ line: info.lines, username, error: error instanceof OAuthError ? error.description : (error as Error).message });
    }
    bar?.increment();
  }
  bar?.stop();
  return result;
}
