// One user: the account (admin:users: disable, enable, new password, delete) and the user's active
// sessions (admin:tokens: revoke one, or sign out everywhere). Each part needs its own scope.

import { append, busy, confirmAction, field, fill, h, plural, report, table, tableRow, time, uniqueId } from './dom.js';

export async function renderUser(root, context) {
  const { session, parts } = context;
  const id = parts[0];
  const heading = h('h1', { tabindex: '-1' }, 'User');
  const account = h('section', { 'aria-labelledby': 'account-heading' }, h('h2', { id: 'account-heading' }, 'Account'));
  const sessions = h('section', { 'aria-labelledby': 'sessions-heading' }, h('h2', { id: 'sessions-heading' }, 'Active sessions'));
  root.append(heading, account, sessions);
  const named = (username) => fill(heading, username);

  const loads = [];
  if (session.has('admin:users')) loads.push(loadAccount(account, id, context, named));
  else account.append(h('p', { class: 'refusal' }, 'Your admin scopes do not include admin:users, so the account is not shown.'));
  if (session.has('admin:tokens')) loads.push(loadSessions(sessions, id, context, named));
  else sessions.append(h('p', { class: 'refusal' }, 'Your admin scopes do not include admin:tokens, so sessions are not shown.'));
  await Promise.all(loads);
}

async function loadAccount(section, id, context, named) {
  const { session } = context;
  const user = await session.api('GET', `admin/users/${encodeURIComponent(id)}`);
  named(user.username);
  const status = h('span', { class: `badge ${user.disabled ? 'disabled' : 'active'}` }, user.disabled ? 'disabled' : 'active');
  const facts = h(
    'dl',
    { class: 'facts' },
    [
      ['Username', user.username],
      ['User id', h('code', {}, user.id)],
      ['Name', user.name ?? '—'],
      ['Email', user.email ?? '—'],
      ['Scopes', user.scopes.join(' ') || '—'],
      ['Status', status],
      ['Created', time(user.created_at)],
      ['Changed', time(user.updated_at)],
    ].map(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]),
  );

  const toggle = h('button', { type: 'button', class: user.disabled ? '' : 'danger' }, user.disabled ? 'Enable user' : 'Disable user');
  toggle.addEventListener('click', () =>
    busy(toggle, async () => {
      if (!user.disabled && !(await confirmAction(`Disable ${user.username}? They can no longer sign in, and every session of theirs ends at once.`))) return;
      const changed = await session.api('PATCH', `admin/users/${encodeURIComponent(id)}`, { disabled: !user.disabled });
      report(
        changed.disabled
          ? `Disabled ${changed.username}: ${plural(changed.revoked_grants, 'session')} ended.`
          : `Enabled ${changed.username}: they can sign in again.`,
      );
      context.rerender();
    }).catch(context.handleError),
  );

  const remove = h('button', { type: 'button', class: 'danger' }, 'Delete user');
  remove.addEventListener('click', () =>
    busy(remove, async () => {
      if (!(await confirmAction(`Delete ${user.username}? The account and every session of theirs go at once. This cannot be undone.`))) return;
      await session.api('DELETE', `admin/users/${encodeURIComponent(id)}`);
      report(`Deleted the user ${user.username}.`);
      context.navigate('#/users');
    }).catch(context.handleError),
  );

  const password = field(
    'New password',
    { type: 'password', required: true, autocomplete: 'new-password' },
    'Every session of the user ends when the password changes.',
  );
  const setPassword = h('button', { type: 'submit' }, 'Set password');
  const passwordForm = h('form', { class: 'inline' }, password.element, setPassword);
  passwordForm.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(setPassword, async () => {
      if (!(await confirmAction(`Set a new password for ${user.username}? Every session of theirs ends at once.`))) return;
      const changed = await session.api('PATCH', `admin/users/${encodeURIComponent(id)}`, { password: password.input.value });
      passwordForm.reset();
      report(`Set a new password for ${changed.username}: ${plural(changed.revoked_grants, 'session')} ended.`);
      context.rerender();
    }).catch(context.handleError);
  });

  append(section, [
    facts,
    h('div', { class: 'actions' }, toggle, remove),
    h('section', { class: 'panel', 'aria-labelledby': 'password-heading' }, h('h3', { id: 'password-heading' }, 'Reset password'), passwordForm),
    session.has('admin:tokens')
      ? h('p', {}, h('a', { href: `#/audit?target=${encodeURIComponent(user.id)}` }, `Audit log entries about ${user.username}`))
      : null,
  ]);
}

async function loadSessions(section, id, context, named) {
  const { session } = context;
  const page = await session.api('GET', `admin/grants?${new URLSearchParams({ user_id: id, limit: '200' })}`);
  const username = page.items[0]?.username;
  if (username && !session.has('admin:users')) named(username);
  const who = username ?? 'this user';

  const signOutEverywhere = h('button', { type: 'button', class: 'danger' }, 'Sign out everywhere');
  signOutEverywhere.addEventListener('click', () =>
    busy(signOutEverywhere, async () => {
      if (!(await confirmAction(`Sign ${who} out everywhere? Every session of theirs, in every client, ends at once: refresh tokens and access tokens.`)))
        return;
      const result = await session.api('POST', 'admin/revocations', { user_id: id });
      report(`Signed ${who} out everywhere: ${plural(result.revoked, 'session')} ended.`);
      context.rerender();
    }).catch(context.handleError),
  );

  if (page.items.length === 0) {
    section.append(h('p', {}, 'No active sessions.'), h('div', { class: 'actions' }, signOutEverywhere));
    return;
  }
  const { table: list, body } = table(`Active sessions of ${who}`, ['Session', 'Client', 'Scope', 'Created', 'Last refreshed', 'Expires', 'Action'], []);
  for (const grant of page.items) {
    const sessionCell = h(
      'td',
      { id: uniqueId('session') },
      h('code', {}, grant.grant_id),
      grant.grant_id === session.grantId ? h('span', { class: 'hint' }, ' (this console session)') : null,
    );
    const revoke = h('button', { type: 'button', class: 'danger small', 'aria-describedby': sessionCell.id }, 'Revoke session');
    revoke.addEventListener('click', () =>
      busy(revoke, async () => {
        if (!(await confirmAction(`Revoke this session of ${who} in ${grant.client_id}? Its refresh token and its access tokens stop working at once.`)))
          return;
        const result = await session.api('POST', 'admin/revocations', { grant_id: grant.grant_id });
        report(
          result.revoked === 1 ? `Revoked the session ${grant.grant_id} of ${who} in ${grant.client_id}.` : `The session ${grant.grant_id} had already ended.`,
        );
        context.rerender();
      }).catch(context.handleError),
    );
    body.append(
      tableRow([sessionCell, grant.client_id, grant.scope, time(grant.created_at), time(grant.last_refreshed_at, 'never'), time(grant.expires_at), revoke]),
    );
  }
  append(section, [
    list,
    page.next_cursor ? h('p', { class: 'hint' }, 'Showing the newest 200 sessions.') : null,
    h('div', { class: 'actions' }, signOutEverywhere),
  ]);
}
