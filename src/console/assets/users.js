// Users: search, list and create accounts (admin:users). With admin:tokens alone, the page finds a
// user's active sessions by exact username instead: the admin API lists no accounts to it.

import { busy, field, h, plural, report, table, tableRow, time } from './dom.js';

const PAGE_SIZE = 50;

function userLink(id, username) {
  return h('a', { href: `#/users/${encodeURIComponent(id)}` }, username);
}

function searchForm(context, text, hint) {
  const search = field('Search users', { type: 'search', name: 'search', value: text, autocomplete: 'off', spellcheck: 'false' }, hint);
  const form = h('form', { class: 'inline', role: 'search' }, search.element, h('button', { type: 'submit' }, 'Search'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = search.input.value.trim();
    context.navigate(value === '' ? '#/users' : `#/users?search=${encodeURIComponent(value)}`, { focus: false });
  });
  return { form, input: search.input };
}

export async function renderUsers(root, context) {
  root.append(h('h1', { tabindex: '-1' }, 'Users'));
  if (context.session.has('admin:users')) await renderAccounts(root, context);
  else await renderSessionLookup(root, context);
}

async function renderAccounts(root, context) {
  const { session, query } = context;
  const text = query.get('search') ?? '';
  const search = searchForm(context, text, 'Part of a username, email address or name.');
  const results = h('div');
  root.append(search.form, results, createUserForm(context));
  if (text !== '') search.input.focus();

  const caption = text === '' ? 'All users' : `Users matching “${text}”`;
  const { table: list, body } = table(caption, ['Username', 'Name', 'Email', 'Scopes', 'Status', 'Created'], []);
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Show more users');
  let cursor = null;
  const load = async () => {
    const parameters = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (text !== '') parameters.set('search', text);
    if (cursor) parameters.set('cursor', cursor);
    const page = await session.api('GET', `admin/users?${parameters}`);
    for (const user of page.items) {
      body.append(
        tableRow([
          userLink(user.id, user.username),
          user.name ?? '—',
          user.email ?? '—',
          user.scopes.join(' ') || '—',
          h('span', { class: `badge ${user.disabled ? 'disabled' : 'active'}` }, user.disabled ? 'disabled' : 'active'),
          time(user.created_at),
        ]),
      );
    }
    cursor = page.next_cursor;
    more.hidden = cursor === null;
    return page.items.length;
  };
  more.addEventListener('click', () => busy(more, load).catch(context.handleError));
  const count = await load();
  results.append(count === 0 && text !== '' ? h('p', {}, `No user matches “${text}”.`) : list, more);
}

function createUserForm(context) {
  const username = field('New username', { required: true, autocomplete: 'off', spellcheck: 'false' });
  const password = field('Initial password', { type: 'password', required: true, autocomplete: 'new-password' });
  const email = field('Email', { type: 'email', autocomplete: 'off' }, 'Optional.');
  const name = field('Name', { autocomplete: 'off' }, 'Optional.');
  const scopes = field('Scopes', { autocomplete: 'off', spellcheck: 'false' }, 'Separated by spaces, e.g. "read write". An admin scope only if you hold it.');
  const button = h('button', { type: 'submit' }, 'Create user');
  const form = h('form', { class: 'inline' }, username.element, password.element, email.element, name.element, scopes.element, button);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const body = {
      username: username.input.value,
      password: password.input.value,
      scopes: scopes.input.value.split(/[\s,]+/).filter((scope) => scope !== ''),
    };
    if (email.input.value.trim() !== '') body.email = email.input.value.trim();
    if (name.input.value.trim() !== '') body.name = name.input.value.trim();
    busy(button, async () => {
      const user = await context.session.api('POST', 'admin/users', body);
      form.reset();
      report(`Created the user ${user.username}${user.scopes.length > 0 ? ` with the scopes ${user.scopes.join(' ')}` : ''}.`);
      context.navigate(`#/users/${encodeURIComponent(user.id)}`);
    }).catch(context.handleError);
  });
  return h('section', { class: 'panel', 'aria-labelledby': 'create-user-heading' }, h('h2', { id: 'create-user-heading' }, 'Create a user'), form);
}

/** admin:tokens without admin:users: a user's sessions, found by the exact username. */
async function renderSessionLookup(root, context) {
  const { session, query } = context;
  const text = query.get('search') ?? '';
  root.append(
    h(
      'p',
      { class: 'refusal' },
      'Your admin scopes do not include admin:users, so accounts are not listed or changed here. With admin:tokens you can find the active sessions of a user by their exact username.',
    ),
  );
  const search = searchForm(context, text, 'The exact username.');
  root.append(search.form);
  if (text === '') return;
  search.input.focus();
  const page = await session.api('GET', `admin/grants?${new URLSearchParams({ username: text, limit: '200' })}`);
  const first = page.items[0];
  if (!first) {
    root.append(h('p', {}, `No active sessions for “${text}”.`));
    return;
  }
  const count = page.next_cursor === null ? plural(page.items.length, 'active session') : `more than ${page.items.length} active sessions`;
  root.append(table(`Sessions of “${text}”`, ['Username', 'Sessions'], [[userLink(first.user_id, first.username), count]]).table);
}
