// The app shell: a tiny client-side router over history.pushState. Each page module exports
// render(main, ctx) and may return a cleanup function (timers).
import { get } from './api.js';
import { h } from './ui.js';
import { handedOverBanner } from './waiting.js';

const routes = [
  ['/', () => import('./pages/tickets.js')],
  ['/auth/signup', () => import('./pages/auth.js'), { mode: 'signup' }],
  ['/auth/signin', () => import('./pages/auth.js'), { mode: 'signin' }],
  ['/auth/signout', () => import('./pages/signout.js')],
  ['/tickets/new', () => import('./pages/sell.js')],
  ['/tickets/:id', () => import('./pages/ticket.js')],
  ['/orders', () => import('./pages/orders.js')],
  ['/orders/:id', () => import('./pages/order.js')],
  ['/my-tickets', () => import('./pages/listings.js')],
  ['/listings', () => import('./pages/listings.js')],  // the page's older address
];

let cleanup = null;
let config = null;
let firstRender = true;

function match(path) {
  const parts = path.replace(/\/+$/, '').split('/').filter(Boolean);
  for (const [pattern, load, extra] of routes) {
    const want = pattern.split('/').filter(Boolean);
    if (want.length !== parts.length) continue;
    const params = {};
    const ok = want.every((seg, i) => {
      if (seg.startsWith(':')) {
        params[seg.slice(1)] = decodeURIComponent(parts[i]);
        return true;
      }
      return seg === parts[i];
    });
    if (ok) return { load, params: { ...params, ...extra } };
  }
  return null;
}

function renderNav(user) {
  const link = (href, text) => h('li', {}, h('a', { href, 'data-link': true }, text));
  const items = user
    ? [link('/', 'Tickets'), link('/tickets/new', 'Sell a ticket'), link('/my-tickets', 'My tickets'),
       link('/orders', 'My orders'), link('/auth/signout', 'Sign out')]
    : [link('/', 'Tickets'), link('/auth/signin', 'Sign in'), link('/auth/signup', 'Sign up')];
  document.getElementById('nav').replaceChildren(...items);
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.getAttribute('href') === location.pathname) a.setAttribute('aria-current', 'page');
  }
}

export async function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState({}, '', path);
  else history.pushState({}, '', path);
  await render();
}

// Each render draws into a container of its own, so that a render overtaken by a newer one (a
// click during a slow load, the back button) draws into a container no longer on the page
// instead of adding a second copy of the page to it.
let renders = 0;

async function render() {
  const mine = ++renders;
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  const main = document.getElementById('main');
  let user = null;
  try {
    config ??= await get('/api/config');
    user = (await get('/api/users/currentuser')).currentUser;
  } catch {
    // The server is unreachable; pages show their own errors when they load data.
  }
  if (mine !== renders) return;
  renderNav(user);
  const found = match(location.pathname);
  if (!found) {
    main.replaceChildren(h('h1', {}, 'Page not found'), h('p', {}, h('a', { href: '/', 'data-link': true }, 'Back to the tickets')));
    return;
  }
  const page = await found.load();
  if (mine !== renders) return;
  const view = h('div', { class: 'view' });
  main.replaceChildren(view);
  const ctx = { params: found.params, user, config: config ?? { payments: 'fake' }, navigate };
  try {
    const done = (await page.render(view, ctx)) ?? null;
    if (mine !== renders) {
      done?.();  // overtaken: its timers stop with it
      return;
    }
    cleanup = done;
    const banner = await handedOverBanner(user);
    if (banner && mine === renders) view.prepend(banner);
  } catch (error) {
    if (mine === renders) {
      view.replaceChildren(h('h1', {}, 'Something went wrong'),
        h('p', { role: 'alert' }, error.message || 'Please try again.'));
    }
  }
  if (mine !== renders) return;
  // After a client-side navigation, move focus to the new content (as a page load would reset
  // it); on the first load leave it where the browser put it, at the top of the page.
  if (!firstRender) main.focus({ preventScroll: true });
  firstRender = false;
}

document.addEventListener('click', (event) => {
  const a = event.target.closest('a[data-link]');
  if (!a || event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  navigate(a.getAttribute('href'));
});
window.addEventListener('popstate', render);
render();
