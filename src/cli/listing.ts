import type { Database } from '../store/database.js';
import { listClients } from '../store/clients-repository.js';
import { listActiveGrants } from '../store/grants-repository.js';
import { listUsers } from '../store/users-repository.js';
import { presentClient, presentGrant, presentUser } from '../services/presenters.js';

const PAGE = 500;

/** Every client, in id order (the CLI lists all; the admin API pages). */
export async function allClients(db: Database): Promise<Record<string, unknown>[]> {
  const rows = [];
  for (let after: string | undefined; ; ) {
    const page = await listClients(db, { after, limit: PAGE });
    rows.push(...page);
    if (page.length < PAGE) break;
    after = page[page.length - 1]?.id;
  }
  return rows.map(presentClient);
}

export async function allUsers(db: Database): Promise<Record<string, unknown>[]> {
  const rows = [];
  for (let after: string | undefined; ; ) {
    const page = await listUsers(db, { after, limit: PAGE });
    rows.push(...page);
    if (page.length < PAGE) break;
    after = page[page.length - 1]?.username;
  }
  return rows.map(presentUser);
}

export async function allActiveGrants(db: Database, filter: { username?: string | undefined; clientId?: string | undefined; now: Date }): Promise<Record<string, unknown>[]> {
  const rows = [];
  for (let before: { createdAt: Date; id: string } | undefined; ; ) {
    const page = await listActiveGrants(db, { ...filter, before, limit: PAGE });
    rows.push(...page);
    const last = page[page.length - 1];
    if (page.length < PAGE || !last) break;
    before = { createdAt: last.createdAt, id: last.id };
  }
  return rows.map(presentGrant);
}

/** A plain aligned table for people; --json prints the objects instead. */
export function table(rows: Record<string, unknown>[], columns: string[]): string {
  if (rows.length === 0) return '(none)';
  const cell = (value: unknown): string => (Array.isArray(value) ? value.join(' ') : value === null || value === undefined ? '-' : String(value));
  const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => cell(row[column]).length)));
  const line = (values: string[]): string => values.map((value, i) => value.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(columns), ...rows.map((row) => line(columns.map((column) => cell(row[column]))))].join('\n');
}
