// The console's entry point: sign-in, navigation between the areas, and what each area may show.
// Pages live in the URL fragment (#/users, #/users/<id>, #/clients, #/keys, #/audit), so the
// server serves one page and every address works at any host and under any path prefix.

import { renderAudit } from './audit.js';
import { renderClients } from './clients.js';
import { renderResources } from './resources.js';
import { clearOutcome, h, report, reportProblem } from './dom.js';
import { renderKeys } from './keys.js';
import { ApiError, Session, SessionEnded } from './session.js';
import { renderUser } from './user.js';
import { renderUsers } from './users.js';

/**
 * The areas and the admin scopes that open them (any one of them), as the admin API decides: an
 * area the signed-in user's scopes do not cover has no link, and at its address shows a refusal.
 * Users opens with admin:users (accounts) or admin:tokens (sessions alone).
 */
const AREAS = {
  users: {
    title: 'Users',
    anyOf: ['admin:users', 'admin:tokens'],
    render: (root, context) => (context.parts.length > 0 ? renderUser(root, context) : renderUsers(root, context)),
  },
  clients: { title: 'Clients', anyOf: ['admin:clients'], render: renderClients },
  resources: { title: 'Resources', anyOf: ['admin:clients'], render: renderResources },
  keys: { title: 'Keys', anyOf: ['admin:keys'], render: renderKeys },
  audit: { title: 'Audit log', anyOf: ['admin:tokens'], render: renderAudit },
};

const elements = {
  signIn: document.getElementById('sign-in'),
  form: document.getElementById('sign-in-form'),
  username: document.getElementById('sign-in-username'),
  password: document.getElementById('sign-in-password'),
  alert: document.getElementById('sign-in-alert'),
  nav: document.getElementById('areas'),
  account: document.getElementById('account'),
  whoami: document.getElementById('whoami'),
  signOut: document.getElementById('sign-out'),
  view: document.getElementById('view'),
};

const session = new Session((message) => showSignIn(message));
let focusOnRender = true;

function covers(area) {
  return area.anyOf.some((scope) => session.has(scope));
}

function route() {
  const [path = '', search = ''] = location.hash.replace(/^#\/?/, '').split('?');
  try {
    const [area = '', ...parts] = path.split('/').map(decodeURIComponent);
    return { area, parts: parts.filter((part) => part !== ''), query: new URLSearchParams(search) };
  } catch {
    return { area: '', parts: [], query: new URLSearchParams() };
  }
}

/** Goes to `hash`; `focus: false` keeps the focus where it is (a search or filter form). */
function navigate(hash, { focus = true } = {}) {
  focusOnRender = focus;
  if (location.hash === hash) void render();
  else location.hash = hash;
}

/** What went wrong, in words for the person at the console. */
function describeError(error) {
  if (error instanceof ApiError) {
    if (error.status === 403) return `Refused: ${error.message}.`;
    if (error.status === 404) return `Not found: ${error.message}.`;
    return `Failed: ${error.message}.`;
  }
  return `Could not reach Gatehouse: ${error.message}`;
}

function handleError(error) {
  if (error instanceof SessionEnded) {
    if (session.signedIn === false && !elements.signIn.hidden) return;
    showSignIn(error.message);
    return;
  }
  reportProblem(describeError(error));
}

function signInRefusal(error) {
  if (!(error instanceof ApiError)) return `Could not reach Gatehouse: ${error.message}`;
  switch (error.error) {
    case 'invalid_scope':
      return 'Refused: this account holds no admin scopes, so it cannot use the console.';
    case 'invalid_grant':
      return 'Refused: wrong username or password, or the account is disabled.';
    case 'invalid_client':
    case 'unauthorized_client':
      return `Refused: the console's client (gatehouse-console) is missing or changed, so no one can sign in here. Start Gatehouse with CONSOLE_ENABLED=true to create it. (${error.message})`;
    default:
      if (error.status === 429) return `Refused: too many attempts. Try again ${error.retryAfter ? `in ${error.retryAfter} seconds` : 'later'}.`;
      return `Refused: ${error.message}.`;
  }
}

function showSignIn(message) {
  // Nothing a signed-out page could still show: the view is emptied, not just hidden.
  elements.view.replaceChildren();
  elements.view.hidden = true;
  elements.nav.hidden = true;
  elements.account.hidden = true;
  elements.signIn.hidden = false;
  document.title = 'Sign in · Gatehouse console';
  if (message) {
    clearOutcome();
    elements.alert.textContent = message;
    elements.alert.hidden = false;
  }
  elements.username.focus();
}

function showConsole() {
  elements.signIn.hidden = true;
  elements.alert.hidden = true;
  elements.alert.textContent = '';
  elements.view.hidden = false;
  elements.nav.hidden = false;
  elements.account.hidden = false;
  elements.whoami.textContent = `Signed in as ${session.username} (${session.scopes.join(', ')})`;
  for (const link of elements.nav.querySelectorAll('a[data-area]')) link.hidden = !covers(AREAS[link.dataset.area]);
}

async function render() {
  if (!session.signedIn) return;
  const { area, parts, query } = route();
  const chosen = AREAS[area];
  if (!chosen) {
    const first = Object.keys(AREAS).find((name) => covers(AREAS[name]));
    if (first) location.replace(`#/${first}`);
    return;
  }
  for (const link of elements.nav.querySelectorAll('a[data-area]')) {
    if (link.dataset.area === area) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.title = `${chosen.title} · Gatehouse console`;
  const root = h('section', { class: 'page' });
  elements.view.replaceChildren(root);
  const focus = focusOnRender;
  focusOnRender = true;
  if (!covers(chosen)) {
    root.append(
      h('h1', { tabindex: '-1' }, chosen.title),
      h('p', { class: 'refusal' }, `Your admin scopes do not include ${chosen.anyOf.join(' or ')}, which this page needs. Nothing is shown.`),
    );
    if (focus) root.querySelector('h1').focus();
    return;
  }
  const rendering = chosen.render(root, { session, parts, query, navigate, rerender: () => void render(), handleError });
  // Every page puts its heading in place before it waits for the API.
  if (focus) root.querySelector('h1')?.focus();
  try {
    await rendering;
  } catch (error) {
    handleError(error);
  }
}

elements.form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const button = elements.form.querySelector('button[type="submit"]');
  button.disabled = true;
  elements.alert.hidden = true;
  try {
    await session.signIn(elements.username.value, elements.password.value);
    elements.password.value = '';
    clearOutcome();
    showConsole();
    const { area } = route();
    if (AREAS[area]) void render();
    else navigate(`#/${Object.keys(AREAS).find((name) => covers(AREAS[name]))}`);
  } catch (error) {
    elements.alert.textContent = signInRefusal(error);
    elements.alert.hidden = false;
    elements.password.select();
  } finally {
    button.disabled = false;
  }
});

elements.signOut.addEventListener('click', async () => {
  const revoked = await session.signOut();
  showSignIn();
  if (revoked) report('Signed out. The session has been revoked.');
  else reportProblem('Signed out here, but Gatehouse could not be told: the session stays valid until it expires.');
});

window.addEventListener('hashchange', () => void render());
showSignIn();
