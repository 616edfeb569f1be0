// One ticket, with a Purchase button that reserves it.
import { get, post } from '../api.js';
import { errorBox, formatPrice, h, pageTitle, submitting } from '../ui.js';

export async function render(main, { params, user, navigate }) {
  const ticket = await get(`/api/tickets/${encodeURIComponent(params.id)}`);
  main.append(pageTitle(ticket.title), h('p', { class: 'price big' }, formatPrice(ticket.price)));
  if (ticket.orderId) {
    main.append(h('p', { class: 'notice' }, 'This ticket is reserved by someone else right now.'));
    return;
  }
  if (!user) {
    main.append(h('p', {}, h('a', { href: '/auth/signin', 'data-link': true }, 'Sign in'), ' to buy this ticket.'));
    return;
  }
  const form = h('form', {}, errorBox(), h('button', { type: 'submit', class: 'primary' }, 'Purchase'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const order = await submitting(form, () => post('/api/orders', { ticketId: ticket.id }));
    if (order) await navigate(`/orders/${encodeURIComponent(order.id)}`);
  });
  main.append(form);
}
