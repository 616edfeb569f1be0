// My tickets: everything the signed-in user owns now. A listed ticket's price can be edited; a
// bought one can be resold (at most its face value times the server's resale cap); a reserved
// one waits for its buyer.
import { get, post, put } from '../api.js';
import { errorBox, formatPrice, h, pageTitle, submitting } from '../ui.js';

// A one-field price form: label, input, button, its error slot and a line saying what was done.
function priceForm({ ticket, label, button, hint, send, done }) {
  const id = `${button.toLowerCase()}-${ticket.id}`;
  const form = h('form', { class: 'inline-form', novalidate: true },
    errorBox(),
    h('div', { class: 'inline' },
      h('label', { for: id }, label),
      h('input', { id, name: 'price', inputmode: 'decimal', value: String(ticket.price),
                   'aria-describedby': `${id}-hint ${id}-error` }),
      h('button', { type: 'submit' }, button)),
    h('p', { class: 'muted hint', id: `${id}-hint` }, hint ?? ''),
    h('p', { class: 'field-error', id: `${id}-error`, 'data-error-for': 'price', 'aria-live': 'polite' }),
    h('p', { class: 'saved', role: 'status' }));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    form.querySelector('.saved').textContent = '';
    const saved = await submitting(form, () => send(form.price.value));
    if (saved) done(saved, form);
  });
  return form;
}

function capHint(ticket, capPercent) {
  if (!capPercent) return `Face value ${formatPrice(ticket.faceValue)}; no resale cap.`;
  const most = Math.floor(Math.round(ticket.faceValue * 100) * capPercent / 100) / 100;
  return capPercent === 100
    ? `At most the face value, ${formatPrice(most)}.`
    : `At most ${formatPrice(most)} (${capPercent}% of the face value, ${formatPrice(ticket.faceValue)}).`;
}

function row(ticket, { bought, capPercent, rerender }) {
  const state = !ticket.orderId ? 'listed' : bought ? 'yours' : 'reserved';
  const badgeText = { listed: 'listed', yours: 'bought', reserved: 'reserved' }[state];
  const path = `/api/tickets/${encodeURIComponent(ticket.id)}`;
  const item = h('li', { class: 'listing' },
    h('div', { class: 'listing-head' },
      h('a', { href: `/tickets/${encodeURIComponent(ticket.id)}`, 'data-link': true }, ticket.title),
      h('span', { class: `badge ${state}` }, badgeText)));
  if (state === 'listed') {
    item.append(priceForm({
      ticket, label: 'Price (USD)', button: 'Save',
      send: (price) => put(path, { title: ticket.title, price }),
      done: (saved, form) => {
        ticket.price = saved.price;
        form.price.value = String(saved.price);
        form.querySelector('.saved').textContent = `Saved: now ${formatPrice(saved.price)}.`;
      },
    }));
  } else if (state === 'yours') {
    item.append(priceForm({
      ticket, label: 'Resell for (USD)', button: 'Resell', hint: capHint(ticket, capPercent),
      send: (price) => post(`${path}/resale`, { price }),
      done: (saved) => rerender(`${ticket.title} is listed again at ${formatPrice(saved.price)}.`),
    }));
  } else {
    item.append(h('p', { class: 'muted' }, 'A buyer has reserved it: it cannot be edited until they pay or let go.'));
  }
  return item;
}

export async function render(main, { user, config }) {
  main.append(pageTitle('My tickets'));
  if (!user) {
    main.append(h('p', {}, h('a', { href: '/auth/signin', 'data-link': true }, 'Sign in'), ' to see your tickets.'));
    return;
  }
  const list = h('ul', { class: 'listings' });
  const said = h('p', { class: 'saved', role: 'status' });
  main.append(said, list);
  const capPercent = config.resaleCapPercent ?? 100;
  const rerender = async (message = '') => {
    said.textContent = message;
    const [tickets, orders] = await Promise.all([get('/api/tickets?owner=me&limit=200'), get('/api/orders')]);
    // Bought: held by my own completed order (not relisted).
    const paid = new Set(orders.filter((o) => o.status === 'complete').map((o) => o.id));
    if (!tickets.length) {
      list.replaceChildren(h('li', { class: 'muted' }, 'You have no tickets. ',
        h('a', { href: '/tickets/new', 'data-link': true }, 'Sell a ticket'), ' or buy one.'));
      return;
    }
    list.replaceChildren(...tickets.map((t) => row(t, { bought: paid.has(t.orderId), capPercent, rerender })));
  };
  await rerender();
}
