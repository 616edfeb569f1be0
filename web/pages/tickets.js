// The listing: tickets that are not reserved, newest first.
import { get } from '../api.js';
import { formatPrice, h, pageTitle } from '../ui.js';

export async function render(main) {
  main.append(pageTitle('Tickets for sale'));
  const tickets = await get('/api/tickets?limit=200');
  if (!tickets.length) {
    main.append(h('p', { class: 'muted' }, 'No tickets are for sale right now. ',
      h('a', { href: '/tickets/new', 'data-link': true }, 'Sell one'), '.'));
    return;
  }
  main.append(h('ul', { class: 'cards', 'aria-label': 'Tickets' }, tickets.map((t) =>
    h('li', { class: 'card' },
      h('a', { href: `/tickets/${encodeURIComponent(t.id)}`, 'data-link': true, class: 'card-title' }, t.title),
      h('span', { class: 'price' }, formatPrice(t.price))))));
}
