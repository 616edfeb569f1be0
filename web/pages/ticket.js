// One ticket, with a Purchase button that reserves it, and its public history.
import { get, post } from '../api.js';
import { errorBox, formatPrice, h, pageTitle, submitting } from '../ui.js';

const eventNames = {
  listed: 'Listed',
  'price-changed': 'Price changed',
  sold: 'Sold',
  relisted: 'Relisted',
};

async function historySection(id) {
  const entries = await get(`/api/tickets/${encodeURIComponent(id)}/history`);
  const when = (at) => new Date(at).toLocaleString('en-US', { dateStyle: 'medium', timeStyle: 'short' });
  return h('section', { 'aria-labelledby': 'history-title' },
    h('h2', { id: 'history-title' }, 'History'),
    h('ol', { class: 'history' }, entries.map((e) =>
      h('li', {}, h('span', { class: 'history-event' }, eventNames[e.event] ?? e.event), ' ',
        h('span', { class: 'price' }, formatPrice(e.price)), ' ',
        h('time', { datetime: e.at, class: 'muted' }, when(e.at))))));
}

export async function render(main, { params, user, navigate }) {
  const ticket = await get(`/api/tickets/${encodeURIComponent(params.id)}`);
  main.append(pageTitle(ticket.title), h('p', { class: 'price big' }, formatPrice(ticket.price)));
  if (ticket.orderId) {
    const mine = user && ticket.userId === user.id;
    main.append(h('p', { class: 'notice' },
      mine ? 'This ticket is yours.' : 'This ticket is reserved by someone else right now.'));
  } else if (!user) {
    main.append(h('p', {}, h('a', { href: '/auth/signin', 'data-link': true }, 'Sign in'), ' to buy this ticket.'));
  } else {
    const form = h('form', {}, errorBox(), h('button', { type: 'submit', class: 'primary' }, 'Purchase'));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const order = await submitting(form, () => post('/api/orders', { ticketId: ticket.id }));
      if (order) await navigate(`/orders/${encodeURIComponent(order.id)}`);
    });
    main.append(form);
  }
  main.append(await historySection(ticket.id));
}
