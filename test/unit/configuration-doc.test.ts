import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONFIG_VARIABLES } from '../../src/config.js';

const documentPath = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'configuration.md');
const document = readFileSync(documentPath, 'utf8');
const variables = Object.keys(CONFIG_VARIABLES) as (keyof typeof CONFIG_VARIABLES)[];

/** The rows of the reference table: lines such as "| `PORT` | `3000` | … |". */
function tableRow(name: string): string | undefined {
  return document.split('\n').find((line) => line.startsWith(`| \`${name}\` |`));
}

describe('docs/configuration.md documents every configuration variable', () => {
  it.each(variables)('has a table row for %s', (name) => {
    expect(tableRow(name)).toBeDefined();
  });

  it.each(variables.filter((name) => CONFIG_VARIABLES[name].default !== undefined && CONFIG_VARIABLES[name].default !== ''))(
    'shows the default of %s',
    (name) => {
      expect(tableRow(name)).toContain(`\`${CONFIG_VARIABLES[name].default}\``);
    },
  );

  it('lists the variables in the order of CONFIG_VARIABLES', () => {
    const positions = variables.map((name) => document.indexOf(`| \`${name}\` |`));
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
  });

  it('documents no variable that does not exist', () => {
    const documented = [...document.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \|/gm)].map((match) => match[1] as string);
    expect(documented.filter((name) => !(name in CONFIG_VARIABLES))).toEqual([]);
  });
});
