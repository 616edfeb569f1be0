// The signed-in user's tickets, with price editing (refused while a ticket is reserved).
import { get, put } from '../api.js';
import { errorBox, formatPrice, h, pageTitle, submitting } from '../ui.js';

function row(ticket) {
  const form = h('form', { class: 'listing', novalidate: true },
    h('div', { class: 'listing-head' },
      h('a', { href: `/tickets/${encodeURIComponent(ticket.id)}`, 'data-link': true }, ticket.title),
      h('span', { class: `badge ${ticket.orderId ? 'reserved' : 'listed'}` }, ticket.orderId ? 'reserved' : 'listed')),
    errorBox(),
    h('div', { class: 'inline' },
      h('label', { for: `price-${ticket.id}` }, 'Price (USD)'),
      h('input', { id: `price-${ticket.id}`, name: 'price', inputmode: 'decimal', value: String(ticket.price),
                   'aria-describedby': `price-${ticket.id}-error` }),
      h('button', { type: 'submit' }, 'Save')),
    h('p', { class: 'field-error', id: `price-${ticket.id}-error`, 'data-error-for': 'price', 'aria-live': 'polite' }),
    h('p', { class: 'saved', role: 'status' }));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    form.querySelector('.saved').textContent = '';
    const saved = await submitting(form, () =>
      put(`/api/tickets/${encodeURIComponent(ticket.id)}`, { title: ticket.title, price: form.price.value }));
    if (saved) {
      ticket.price = saved.price;
      form.price.value = String(saved.price);
      form.querySelector('.saved').textContent = `Saved: now ${formatPrice(saved.price)}.`;
    }
  });
  return h('li', {}, form);
}

export async function render(main, { user }) {
  main.append(pageTitle('My listings'));
  if (!user) {
    main.append(h('p', {}, h('a', { href: '/auth/signin', 'data-link': true }, 'Sign in'), ' to see your listings.'));
    return;
  }
  const tickets = await get('/api/tickets?seller=me&limit=200');
  if (!tickets.length) {
    main.append(h('p', { class: 'muted' }, 'You are not selling anything. ',
      h('a', { href: '/tickets/new', 'data-link': true }, 'Sell a ticket'), '.'));
    return;
  }
  main.append(h('ul', { class: 'listings' }, tickets.map(row)));
}
