// Clients (admin:clients): list, register (the secret is shown once), delete.

import { CLIENT_ID } from './session.js';
import { busy, confirmAction, field, h, pagedRows, report, table, tableRow, time, uniqueId } from './dom.js';

const GRANT_TYPES = ['password', 'refresh_token', 'client_credentials'];

export async function renderClients(root, context) {
  root.append(h('h1', { tabindex: '-1' }, 'Clients'));
  const secretPanel = h('section', { class: 'panel', 'aria-labelledby': 'secret-heading', hidden: true });
  const { table: list, body } = table('Registered clients', ['Client id', 'Type', 'Grant types', 'Scopes', 'Audience', 'Created', 'Action'], []);
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Show more clients');
  root.append(
    secretPanel,
    list,
    more,
    registerForm(context, secretPanel, () => reload()),
  );
  const { reload, loaded } = pagedRows(context, 'admin/clients', body, more, (client) => clientRow(client, context));
  await loaded;
}

function clientRow(client, context) {
  const idCell = h(
    'td',
    { id: uniqueId('client') },
    h('code', {}, client.client_id),
    client.client_id === CLIENT_ID ? h('span', { class: 'hint' }, ' (this console)') : null,
  );
  const remove = h('button', { type: 'button', class: 'danger small', 'aria-describedby': idCell.id }, 'Delete client');
  remove.addEventListener('click', () =>
    busy(remove, async () => {
      const warning =
        client.client_id === CLIENT_ID
          ? ' This is the console’s own client: everyone signed in here is signed out, and no one can sign in again until Gatehouse restarts with CONSOLE_ENABLED=true.'
          : '';
      if (!(await confirmAction(`Delete the client ${client.client_id}? Its sessions and tokens stop working at once.${warning}`))) return;
      await context.session.api('DELETE', `admin/clients/${encodeURIComponent(client.client_id)}`);
      report(`Deleted the client ${client.client_id}.`);
      context.rerender();
    }).catch(context.handleError),
  );
  return tableRow([
    idCell,
    `${client.public ? 'public' : 'confidential'}${client.dpop_bound_access_tokens ? ', DPoP required' : ''}`,
    client.grant_types.join(' '),
    client.scopes.join(' ') || '—',
    client.audience ?? 'the issuer',
    time(client.created_at),
    remove,
  ]);
}

function registerForm(context, secretPanel, reload) {
  const id = field('Client id', { required: true, autocomplete: 'off', spellcheck: 'false' });
  const grants = GRANT_TYPES.map((grantType) => {
    const checkbox = h('input', { type: 'checkbox', id: uniqueId('grant'), value: grantType });
    return { grantType, checkbox, element: h('label', { class: 'choice', for: checkbox.id }, checkbox, grantType) };
  });
  const publicBox = h('input', { type: 'checkbox', id: uniqueId('public') });
  const dpopBox = h('input', { type: 'checkbox', id: uniqueId('dpop') });
  const scopes = field('Client scopes', { autocomplete: 'off', spellcheck: 'false' }, 'Separated by spaces. An admin scope only if you hold it.');
  const audience = field(
    'Audience',
    { autocomplete: 'off', spellcheck: 'false' },
    'Optional: the aud of its tokens, for an API of its own. Empty: the issuer.',
  );
  const button = h('button', { type: 'submit' }, 'Create client');
  const form = h(
    'form',
    { class: 'inline' },
    id.element,
    h(
      'fieldset',
      { class: 'choices' },
      h('legend', {}, 'Grant types'),
      grants.map((grant) => grant.element),
    ),
    h('label', { class: 'choice', for: publicBox.id }, publicBox, 'Public client (no secret)'),
    h('label', { class: 'choice', for: dpopBox.id }, dpopBox, 'Require a DPoP proof on every token request'),
    scopes.element,
    audience.element,
    button,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const body = {
      client_id: id.input.value.trim(),
      grant_types: grants.filter((grant) => grant.checkbox.checked).map((grant) => grant.grantType),
      scopes: scopes.input.value.split(/[\s,]+/).filter((scope) => scope !== ''),
    };
    if (publicBox.checked) body.public = true;
    if (dpopBox.checked) body.dpop_bound_access_tokens = true;
    if (audience.input.value.trim() !== '') body.audience = audience.input.value.trim();
    busy(button, async () => {
      const client = await context.session.api('POST', 'admin/clients', body);
      form.reset();
      showSecret(secretPanel, client);
      report(
        client.client_secret
          ? `Registered the client ${client.client_id}. Copy its secret now: it is shown only this once.`
          : `Registered the public client ${client.client_id} (no secret).`,
      );
      await reload();
    }).catch(context.handleError);
  });
  return h('section', { class: 'panel', 'aria-labelledby': 'register-heading' }, h('h2', { id: 'register-heading' }, 'Register a client'), form);
}

/** The one time a generated secret is seen: Gatehouse keeps only its hash. Gone on leaving the page. */
function showSecret(panel, client) {
  panel.replaceChildren();
  if (!client.client_secret) {
    panel.hidden = true;
    return;
  }
  const secret = field('Client secret', { readonly: true, class: 'secret mono', value: client.client_secret, autocomplete: 'off', spellcheck: 'false' });
  panel.append(
    h('h2', { id: 'secret-heading' }, `Secret of ${client.client_id}`),
    h('p', {}, 'Copy it now and keep it in a secret store. Gatehouse stores only a hash of it and cannot show it again.'),
    secret.element,
  );
  panel.hidden = false;
  secret.input.focus();
  secret.input.select();
}
