// One ticket, with a Purchase button that reserves it (or, while someone holds it, the waiting
// list), and its public history.
import { del, get, post } from '../api.js';
import { errorBox, formatPrice, h, pageTitle, submitting } from '../ui.js';
import { stopWaiting, waitingFor } from '../waiting.js';

const eventNames = {
  listed: 'Listed',
  'price-changed': 'Price changed',
  sold: 'Sold',
  relisted: 'Relisted',
};

async function historySection(entries) {
  const when = (at) => new Date(at).toLocaleString('en-US', { dateStyle: 'medium', timeStyle: 'short' });
  return h('section', { 'aria-labelledby': 'history-title' },
    h('h2', { id: 'history-title' }, 'History'),
    h('ol', { class: 'history' }, entries.map((e) =>
      h('li', {}, h('span', { class: 'history-event' }, eventNames[e.event] ?? e.event), ' ',
        h('span', { class: 'price' }, formatPrice(e.price)), ' ',
        h('time', { datetime: e.at, class: 'muted' }, when(e.at))))));
}

// The waiting list of a reserved ticket: the caller's place in it, or a button to join.
async function waitlistSection(ticketId) {
  const path = `/api/tickets/${encodeURIComponent(ticketId)}/waitlist`;
  const section = h('section', { class: 'waitlist', 'aria-labelledby': 'waitlist-title' });
  const show = (place) => {
    const form = h('form', {}, errorBox());
    if (place.position === null) {
      form.append(h('p', {}, place.length ? `${place.length} waiting.` : 'Nobody is waiting yet.',
        ' If the reservation ends, the first in line gets the ticket.'),
      h('button', { type: 'submit', class: 'primary' }, 'Join the waiting list'));
    } else {
      form.append(h('p', { class: 'place', role: 'status' },
        `You are number ${place.position} of ${place.length} in line.`,
        ' If the ticket comes to you, it shows in My orders, reserved for you to pay.'),
      h('button', { type: 'submit' }, 'Leave the waiting list'));
    }
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const next = await submitting(form, async () => {
        if (place.position === null) {
          const joined = await post(path);
          waitingFor(ticketId);
          return joined;
        }
        await del(path);
        stopWaiting(ticketId);
        return get(path);
      });
      if (next) show(next);
    });
    section.replaceChildren(h('h2', { id: 'waitlist-title' }, 'Waiting list'), form);
  };
  show(await get(path));
  return section;
}

export async function render(main, { params, user, navigate }) {
  const ticket = await get(`/api/tickets/${encodeURIComponent(params.id)}`);
  const history = await get(`/api/tickets/${encodeURIComponent(ticket.id)}/history`);
  const sold = ticket.orderId && history.at(-1)?.event === 'sold';  // bought, not relisted
  const mine = user && ticket.userId === user.id;
  main.append(pageTitle(ticket.title), h('p', { class: 'price big' }, formatPrice(ticket.price)));
  if (mine && sold) {
    main.append(h('p', { class: 'notice' }, 'This ticket is yours. ',
      h('a', { href: '/my-tickets', 'data-link': true }, 'Resell it'), ' from My tickets.'));
  } else if (mine && ticket.orderId) {
    main.append(h('p', { class: 'notice' }, 'A buyer has reserved your ticket.'));
  } else if (sold) {
    main.append(h('p', { class: 'notice' }, 'This ticket has been sold.'));
  } else if (ticket.orderId) {
    main.append(h('p', { class: 'notice' }, 'This ticket is reserved by someone else right now.'));
    if (user) main.append(await waitlistSection(ticket.id));
    else main.append(h('p', {}, h('a', { href: '/auth/signin', 'data-link': true }, 'Sign in'), ' to join the waiting list.'));
  } else if (!user) {
    main.append(h('p', {}, h('a', { href: '/auth/signin', 'data-link': true }, 'Sign in'), ' to buy this ticket.'));
  } else if (!mine) {
    const form = h('form', {}, errorBox(), h('button', { type: 'submit', class: 'primary' }, 'Purchase'));
    let refused = false;
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const order = await submitting(form, async () => {
        try {
          return await post('/api/orders', { ticketId: ticket.id });
        } catch (error) {
          // Someone holds it (the listing had not caught up), or people wait for it: offer the line.
          refused = error.errors?.[0]?.message === 'Ticket is already reserved';
          throw error;
        }
      });
      if (order) await navigate(`/orders/${encodeURIComponent(order.id)}`);
      else if (refused && !main.querySelector('.waitlist')) form.after(await waitlistSection(ticket.id));
    });
    main.append(form);
  } else {
    main.append(h('p', { class: 'muted' }, 'You are selling this ticket. ',
      h('a', { href: '/my-tickets', 'data-link': true }, 'Edit it'), ' from My tickets.'));
  }
  main.append(await historySection(history));
}
