import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RESPONSE_SCHEMAS } from '../../src/openapi/schemas.js';
import { AUDIT_ACTIONS } from '../../src/services/audit.js';

const ROOT = join(import.meta.dirname, '..', '..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

/**
 * Every action the audit log can hold is named, in the same order, wherever people choose one (the
 * console's filter is written from the list itself: test/integration/console-http.test.ts).
 */
describe('the audit actions', () => {
  it('are the values docs/admins.md gives for `action`', () => {
    const row = read('docs/admins.md')
      .split('\n')
      .find((line) => line.startsWith('| `action` |'));
    expect([...(row ?? '').slice('| `action` |'.length).matchAll(/`([^`]+)`/g)].map((match) => match[1])).toEqual([...AUDIT_ACTIONS]);
  });

  it('are the values the OpenAPI document allows in an audit entry', () => {
    const entry = RESPONSE_SCHEMAS.AuditEntry as { properties: { action: { enum?: unknown } } };
    expect(entry.properties.action.enum).toEqual([...AUDIT_ACTIONS]);
  });
});
