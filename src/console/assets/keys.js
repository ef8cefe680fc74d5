// Keys (admin:keys): the signing keys, their states, the next scheduled rotation; rotate now.

import { busy, confirmAction, h, relative, report, table, time } from './dom.js';

export async function renderKeys(root, context) {
  root.append(h('h1', { tabindex: '-1' }, 'Keys'));
  const { session } = context;
  const listing = await session.api('GET', 'admin/keys');
  const next = listing.items.find((key) => key.state === 'next');
  const schedule = listing.next_rotation_at
    ? h(
        'p',
        {},
        'Next scheduled rotation: ',
        time(listing.next_rotation_at),
        ` (${Date.parse(listing.next_rotation_at) <= Date.now() ? 'due now' : relative(listing.next_rotation_at)}).`,
      )
    : h('p', {}, 'No key signs yet.');
  const rows = listing.items.map((key) => [
    h('code', {}, key.kid),
    h('span', { class: `badge ${key.state}` }, key.state),
    time(key.created_at),
    time(key.activated_at),
    time(key.retired_at),
    time(key.remove_after),
  ]);

  const rotate = h('button', { type: 'button' }, 'Rotate now');
  rotate.addEventListener('click', () =>
    busy(rotate, async () => {
      const question = `Rotate the signing keys now? The next key${next ? ` (${next.kid})` : ''} starts signing at once; the current key is retired and stays published until the tokens it signed have expired.`;
      if (!(await confirmAction(question))) return;
      const result = await session.api('POST', 'admin/keys/rotate', {});
      report(`Rotated the keys: ${result.current} now signs, and ${result.next} is published as the next key.`);
      context.rerender();
    }).catch(context.handleError),
  );

  root.append(
    schedule,
    table('Signing keys', ['Key id (kid)', 'State', 'Created', 'Signing since', 'Retired', 'Removed after'], rows).table,
    h('p', { class: 'hint' }, 'next: published, not signing yet. current: signs every new token. retired: no longer signs, published until its tokens expire.'),
    h('div', { class: 'actions' }, rotate),
  );
}
