// The tickets this browser waits in line for (localStorage), and the banner that says, on the
// next page load, that the line handed one of them over: "it's yours: pay before …".
import { get } from './api.js';
import { h } from './ui.js';

const key = 'ticketd.waiting';

function load() {
  try {
    return new Set(JSON.parse(localStorage.getItem(key) ?? '[]'));
  } catch {
    return new Set();
  }
}

function save(set) {
  localStorage.setItem(key, JSON.stringify([...set]));
}

export function waitingFor(ticketId) {
  const set = load();
  set.add(ticketId);
  save(set);
}

export function stopWaiting(ticketId) {
  const set = load();
  if (set.delete(ticketId)) save(set);
}

const time = (at) => new Date(at).toLocaleTimeString('en-US', { hour: 'numeric', minute: '2-digit' });

// The banner for the orders the line handed this user, or nothing. Shown until they open the
// order (its page calls stopWaiting) or it is no longer waiting for payment.
export async function handedOverBanner(user) {
  const waiting = load();
  if (!user || !waiting.size) return null;
  let orders;
  try {
    orders = await get('/api/orders');
  } catch {
    return null;
  }
  const handed = orders.filter((o) => o.status === 'created' && waiting.has(o.ticket.id)
    && Date.parse(o.expiresAt) > Date.now());
  if (!handed.length) return null;
  return h('div', { class: 'notice banner', role: 'status' }, handed.map((o) =>
    h('p', {}, 'A ticket you waited for is yours: ',
      h('a', { href: `/orders/${encodeURIComponent(o.id)}`, 'data-link': true }, o.ticket.title),
      `. Pay before ${time(o.expiresAt)}.`)));
}
