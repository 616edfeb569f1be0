// List a ticket for sale.
import { post } from '../api.js';
import { errorBox, field, h, pageTitle, submitting } from '../ui.js';

export async function render(main, { user, navigate }) {
  main.append(pageTitle('Sell a ticket'));
  if (!user) {
    main.append(h('p', {}, h('a', { href: '/auth/signin', 'data-link': true }, 'Sign in'), ' to sell a ticket.'));
    return;
  }
  const form = h('form', { class: 'panel', novalidate: true },
    errorBox(),
    field({ label: 'Title', name: 'title', required: true, maxlength: 200 }),
    field({ label: 'Price (USD)', name: 'price', inputmode: 'decimal', required: true, placeholder: '25.00' }),
    h('button', { type: 'submit', class: 'primary' }, 'List ticket'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const ticket = await submitting(form, () =>
      post('/api/tickets', { title: form.title.value, price: form.price.value }));
    if (ticket) await navigate(`/tickets/${encodeURIComponent(ticket.id)}`);
  });
  main.append(form);
}
