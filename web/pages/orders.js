// The signed-in user's orders, newest first.
import { get } from '../api.js';
import { formatPrice, h, pageTitle } from '../ui.js';

export async function render(main, { user }) {
  main.append(pageTitle('My orders'));
  if (!user) {
    main.append(h('p', {}, h('a', { href: '/auth/signin', 'data-link': true }, 'Sign in'), ' to see your orders.'));
    return;
  }
  const orders = await get('/api/orders');
  if (!orders.length) {
    main.append(h('p', { class: 'muted' }, 'You have not ordered anything yet.'));
    return;
  }
  main.append(h('table', {},
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Ticket'), h('th', { scope: 'col' }, 'Price'),
      h('th', { scope: 'col' }, 'Status'))),
    h('tbody', {}, orders.map((o) => h('tr', {},
      h('td', {}, h('a', { href: `/orders/${encodeURIComponent(o.id)}`, 'data-link': true }, o.ticket.title)),
      h('td', {}, formatPrice(o.ticket.price)),
      h('td', {}, h('span', { class: `badge ${o.status.replace(':', '-')}` }, o.status)))))));
}
