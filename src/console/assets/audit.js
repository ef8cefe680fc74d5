// Audit log (admin:tokens): every admin action and revocation, newest first, filtered by actor,
// action, target and time. The filters live in the address (#/audit?target=…), so links work.

import { AUDIT_ACTIONS } from './audit-actions.js';
import { busy, field, h, table, tableRow, time } from './dom.js';

const FILTERS = ['actor_id', 'action', 'target', 'since', 'until'];

const pad = (number) => String(number).padStart(2, '0');

/** An instant as a datetime-local value, in the reader's time zone. */
function toLocalInput(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** A datetime-local value (local time, to the minute) as an instant; `end`: the last moment of that minute. */
function fromLocalInput(value, end) {
  const date = new Date(value);
  return new Date(date.getTime() + (end ? 59_999 : 0)).toISOString();
}

function actorLabel(actor) {
  switch (actor.type) {
    case 'user':
      return [
        h('a', { href: `#/audit?actor_id=${encodeURIComponent(actor.id)}`, title: `Entries by ${actor.id}` }, actor.username ?? actor.id),
        ` via ${actor.client_id}`,
      ];
    case 'client':
      return ['client ', h('a', { href: `#/audit?actor_id=${encodeURIComponent(actor.id)}`, title: `Entries by ${actor.id}` }, actor.id)];
    case 'cli':
      return 'the CLI (operator)';
    case 'system':
      return 'Gatehouse (system)';
    default:
      return actor.type;
  }
}

function detailsLabel(details, linkUsers) {
  return Object.entries(details).map(([name, value], index) => {
    const text = Array.isArray(value) ? value.join(', ') : String(value);
    const shown = name === 'user_id' && linkUsers ? h('a', { href: `#/users/${encodeURIComponent(text)}` }, text) : h('code', {}, text);
    return [index > 0 ? '; ' : '', `${name}: `, shown];
  });
}

export async function renderAudit(root, context) {
  const { session, query } = context;
  root.append(h('h1', { tabindex: '-1' }, 'Audit log'));

  const actor = field('Actor', { value: query.get('actor_id') ?? '', autocomplete: 'off', spellcheck: 'false' }, 'A user id or a client id.');
  const action = field('Action', { tag: 'select' });
  for (const name of ['', ...AUDIT_ACTIONS, ...(query.get('action') && !AUDIT_ACTIONS.includes(query.get('action')) ? [query.get('action')] : [])]) {
    action.input.append(h('option', { value: name, selected: name === (query.get('action') ?? '') }, name === '' ? 'Any action' : name));
  }
  const target = field(
    'Target',
    { value: query.get('target') ?? '', autocomplete: 'off', spellcheck: 'false' },
    'A user id or username, client id, session (grant) id, token id (jti), key id or resource URI.',
  );
  const since = field('From', { type: 'datetime-local', value: query.get('since') ? toLocalInput(query.get('since')) : '' });
  const until = field('To', { type: 'datetime-local', value: query.get('until') ? toLocalInput(query.get('until')) : '' });
  const clear = h('button', { type: 'button', class: 'secondary' }, 'Clear filters');
  const form = h(
    'form',
    { class: 'inline', 'aria-label': 'Filter the audit log' },
    actor.element,
    action.element,
    target.element,
    since.element,
    until.element,
    h('button', { type: 'submit' }, 'Filter'),
    clear,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const chosen = new URLSearchParams();
    if (actor.input.value.trim()) chosen.set('actor_id', actor.input.value.trim());
    if (action.input.value) chosen.set('action', action.input.value);
    if (target.input.value.trim()) chosen.set('target', target.input.value.trim());
    if (since.input.value) chosen.set('since', fromLocalInput(since.input.value, false));
    if (until.input.value) chosen.set('until', fromLocalInput(until.input.value, true));
    context.navigate(`#/audit${chosen.size > 0 ? `?${chosen}` : ''}`, { focus: false });
  });
  clear.addEventListener('click', () => context.navigate('#/audit', { focus: false }));
  root.append(form);

  const filtered = FILTERS.some((name) => query.has(name));
  const linkUsers = session.has('admin:users') || session.has('admin:tokens');
  const { table: list, body } = table(
    filtered ? 'Audit log entries matching the filters' : 'Audit log entries',
    ['Time', 'Actor', 'Action', 'Details', 'Count'],
    [],
  );
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Show older entries');
  const empty = h('p', { hidden: true }, 'No entries.');
  root.append(list, empty, more);

  let cursor = null;
  const load = async () => {
    const parameters = new URLSearchParams({ limit: '100' });
    for (const name of FILTERS) if (query.get(name)) parameters.set(name, query.get(name));
    if (cursor) parameters.set('cursor', cursor);
    const page = await session.api('GET', `admin/audit?${parameters}`);
    for (const entry of page.items) {
      body.append(tableRow([time(entry.at), actorLabel(entry.actor), h('code', {}, entry.action), detailsLabel(entry.details, linkUsers), entry.count ?? '—']));
    }
    cursor = page.next_cursor;
    more.hidden = cursor === null;
    empty.hidden = body.childElementCount > 0;
    list.hidden = body.childElementCount === 0;
  };
  more.addEventListener('click', () => busy(more, load).catch(context.handleError));
  await load();
}
