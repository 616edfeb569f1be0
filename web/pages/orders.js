// The signed-in user's orders, newest first; an order waiting for payment counts down to its
// expiry (an order the waiting list handed over shows here like any other).
import { get } from '../api.js';
import { formatPrice, h, pageTitle } from '../ui.js';

function timeLeft(expiresAt) {
  const seconds = Math.max(0, Math.floor((Date.parse(expiresAt) - Date.now()) / 1000));
  return seconds ? `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')} left to pay` : 'Time is up';
}

export async function render(main, { user }) {
  main.append(pageTitle('My orders'));
  if (!user) {
    main.append(h('p', {}, h('a', { href: '/auth/signin', 'data-link': true }, 'Sign in'), ' to see your orders.'));
    return undefined;
  }
  const orders = await get('/api/orders');
  if (!orders.length) {
    main.append(h('p', { class: 'muted' }, 'You have not ordered anything yet.'));
    return undefined;
  }
  const countdowns = [];
  main.append(h('table', {},
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Ticket'), h('th', { scope: 'col' }, 'Price'),
      h('th', { scope: 'col' }, 'Status'))),
    h('tbody', {}, orders.map((o) => {
      const pending = o.status === 'created' || o.status === 'awaiting:payment';
      const left = pending ? h('span', { class: 'countdown muted' }, ` ${timeLeft(o.expiresAt)}`) : null;
      if (left) countdowns.push([left, o.expiresAt]);
      return h('tr', {},
        h('td', {}, h('a', { href: `/orders/${encodeURIComponent(o.id)}`, 'data-link': true }, o.ticket.title)),
        h('td', {}, formatPrice(o.ticket.price)),
        h('td', {}, h('span', { class: `badge ${o.status.replace(':', '-')}` }, o.status), left));
    }))));
  if (!countdowns.length) return undefined;
  const timer = setInterval(() => {
    for (const [el, at] of countdowns) el.textContent = ` ${timeLeft(at)}`;
  }, 1000);
  return () => clearInterval(timer);
}
