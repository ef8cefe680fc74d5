// Small DOM helpers. Elements are built from parts, never from HTML strings: whatever the API
// returns goes into the page as text, so no name, scope or detail is ever read as markup.

/**
 * h('a', { href: '#/users' }, 'Users'): an element with attributes (false, null and undefined are
 * left out, true is an empty attribute), `on<event>` listeners, and children (strings become text,
 * arrays are flattened, null and undefined are skipped).
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (name === 'class') element.className = value;
    else if (name === 'value') element.value = value;
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Replaces the children of `parent`. */
export function fill(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

let nextId = 0;
/** A unique id for label/for, aria-describedby and the like. */
export function uniqueId(prefix) {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

/** A labelled input: <div class="field"><label for>…</label><input id>…</div>. */
export function field(label, attributes = {}, hint) {
  const id = attributes.id ?? uniqueId('field');
  const hintId = hint ? uniqueId('hint') : undefined;
  const input = h(attributes.tag ?? 'input', { ...attributes, tag: undefined, id, 'aria-describedby': hintId });
  return { input, element: h('div', { class: 'field' }, h('label', { for: id }, label), input, hint ? h('span', { id: hintId, class: 'hint' }, hint) : null) };
}

/** A table with a caption and column headers; `rows` are arrays of cells (text or nodes). */
export function table(caption, headers, rows) {
  const body = h('tbody');
  for (const row of rows) body.append(tableRow(row));
  return {
    table: h(
      'table',
      {},
      h('caption', {}, caption),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          headers.map((header) => h('th', { scope: 'col' }, header)),
        ),
      ),
      body,
    ),
    body,
  };
}

export function tableRow(cells) {
  return h(
    'tr',
    {},
    cells.map((cell) => (cell instanceof Node && cell.nodeName === 'TD' ? cell : h('td', {}, cell))),
  );
}

/** A time as the reader's locale writes it, with the exact value in `datetime`. */
export function time(iso, empty = '—') {
  if (!iso) return empty;
  return h('time', { datetime: iso, title: iso }, new Date(iso).toLocaleString());
}

/** "in 3 days", "5 minutes ago": for the key rotation schedule. */
export function relative(iso, now = Date.now()) {
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  const units = [
    ['day', 86400],
    ['hour', 3600],
    ['minute', 60],
    ['second', 1],
  ];
  const [unit, size] = units.find(([, size]) => Math.abs(seconds) >= size) ?? ['second', 1];
  return new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' }).format(Math.round(seconds / size), unit);
}

export function plural(count, one, many = `${one}s`) {
  return `${count} ${count === 1 ? one : many}`;
}

// Outcomes: what an action did (role="status"), or why it failed (role="alert").

export function report(message) {
  const outcome = document.getElementById('outcome');
  document.getElementById('problem').hidden = true;
  outcome.textContent = message;
  outcome.hidden = false;
}

export function reportProblem(message) {
  const problem = document.getElementById('problem');
  document.getElementById('outcome').hidden = true;
  problem.textContent = message;
  problem.hidden = false;
}

export function clearOutcome() {
  for (const id of ['outcome', 'problem']) {
    const element = document.getElementById(id);
    element.hidden = true;
    element.textContent = '';
  }
}

/**
 * Asks in a modal dialog; resolves true only when the person presses Confirm (Cancel, Escape, or
 * Enter, whose default is Cancel, resolve false).
 */
export function confirmAction(question) {
  const dialog = document.getElementById('confirm-dialog');
  document.getElementById('confirm-text').textContent = question;
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'confirm'), { once: true });
    dialog.showModal();
  });
}

/** Runs `action` with `button` disabled, so a double click sends one request. */
export async function busy(button, action) {
  button.disabled = true;
  try {
    return await action();
  } finally {
    button.disabled = false;
  }
}

/**
 * Fills a table body from an admin list endpoint (`path`, without query), 100 rows at a time; the
 * `more` button loads the next page and hides on the last. Returns `reload` (from the first page)
 * at once, and `loaded`, the first page's loading.
 */
export function pagedRows(context, path, body, more, row) {
  let cursor = null;
  const load = async () => {
    const parameters = new URLSearchParams({ limit: '100' });
    if (cursor) parameters.set('cursor', cursor);
    const page = await context.session.api('GET', `${path}?${parameters}`);
    for (const item of page.items) body.append(row(item));
    cursor = page.next_cursor;
    more.hidden = cursor === null;
  };
  more.addEventListener('click', () => busy(more, load).catch(context.handleError));
  const reload = async () => {
    body.replaceChildren();
    cursor = null;
    await load();
  };
  return { reload, loaded: load() };
}
