// Resources (admin:clients): the APIs tokens may be meant for (RFC 8707); list and register.

import { busy, field, h, pagedRows, report, table, tableRow, time } from './dom.js';

export async function renderResources(root, context) {
  root.append(h('h1', { tabindex: '-1' }, 'Resources'));
  const { table: list, body } = table('Registered resources', ['URI', 'Scopes', 'Created'], []);
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Show more resources');
  root.append(
    list,
    more,
    registerForm(context, () => reload()),
  );
  const { reload, loaded } = pagedRows(context, 'admin/resources', body, more, (resource) =>
    tableRow([h('td', {}, h('code', {}, resource.uri)), resource.scopes.join(' '), time(resource.created_at)]),
  );
  await loaded;
}

function registerForm(context, reload) {
  const uri = field(
    'Resource URI',
    { required: true, autocomplete: 'off', spellcheck: 'false' },
    'An absolute URI without a fragment (an https URL, or a URN such as urn:example:orders): the aud of its tokens.',
  );
  const scopes = field('Resource scopes', { required: true, autocomplete: 'off', spellcheck: 'false' }, 'The scopes it defines, separated by spaces.');
  const button = h('button', { type: 'submit' }, 'Register resource');
  const form = h('form', { class: 'inline' }, uri.element, scopes.element, button);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const body = { uri: uri.input.value.trim(), scopes: scopes.input.value.split(/[\s,]+/).filter((scope) => scope !== '') };
    busy(button, async () => {
      const resource = await context.session.api('POST', 'admin/resources', body);
      form.reset();
      report(`Registered the resource ${resource.uri}.`);
      await reload();
    }).catch(context.handleError);
  });
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'register-resource-heading' },
    h('h2', { id: 'register-resource-heading' }, 'Register a resource'),
    form,
  );
}
