// An order: a live countdown to its expiry and the payment form.
import { del, get, post } from '../api.js';
import { errorBox, formatPrice, h, pageTitle, submitting } from '../ui.js';
import { stopWaiting } from '../waiting.js';

const statusText = {
  created: 'Reserved for you: pay before the time runs out.',
  'awaiting:payment': 'Waiting for your payment.',
  complete: 'Paid. The ticket is yours.',
  cancelled: 'This order was cancelled.',
};

function remaining(expiresAt) {
  return Math.max(0, Math.floor((Date.parse(expiresAt) - Date.now()) / 1000));
}

function clock(seconds) {
  const m = Math.floor(seconds / 60);
  const s = String(seconds % 60).padStart(2, '0');
  return `${m}:${s}`;
}

// Test cards of the built-in fake provider.
function fakeCardForm() {
  const option = (value, text, checked) => h('label', { class: 'choice' },
    h('input', { type: 'radio', name: 'token', value, checked }), ' ', text);
  return h('fieldset', {},
    h('legend', {}, 'Test card'),
    option('tok_visa', 'Visa 4242 4242 4242 4242 (succeeds)', true),
    option('tok_chargeDeclined', 'Visa 4000 0000 0000 0002 (declined)', false),
    h('p', { class: 'field-error', 'data-error-for': 'token', 'aria-live': 'polite' }));
}

// Stripe's card element, loaded only when the server is configured for Stripe.
async function stripeCardForm(publishableKey) {
  await new Promise((resolve, reject) => {
    if (window.Stripe) return resolve();
    const s = document.createElement('script');
    s.src = 'https://js.stripe.com/v3/';
    s.onload = resolve;
    s.onerror = () => reject(new Error('Could not load the card form.'));
    document.head.append(s);
  });
  const stripe = window.Stripe(publishableKey);
  const card = stripe.elements().create('card');
  const mount = h('div', { class: 'card-element' });
  const wrapper = h('div', { class: 'field' }, h('label', {}, 'Card'), mount,
    h('p', { class: 'field-error', 'data-error-for': 'token', 'aria-live': 'polite' }));
  queueMicrotask(() => card.mount(mount));
  return {
    element: wrapper,
    async token() {
      const result = await stripe.createToken(card);
      if (result.error) throw { errors: [{ message: result.error.message, field: 'token' }] };
      return result.token.id;
    },
  };
}

export async function render(main, { params, config }) {
  let order = await get(`/api/orders/${encodeURIComponent(params.id)}`);
  stopWaiting(order.ticket.id);  // seen: no banner for it any more
  const status = h('p', { class: 'status', role: 'status' });
  const countdown = h('p', { class: 'countdown', 'aria-live': 'off' });
  const area = h('div');
  main.append(pageTitle(order.ticket.title),
    h('p', { class: 'price big' }, formatPrice(order.ticket.price)), status, countdown, area);

  let timer = null;
  const stop = () => { if (timer) clearInterval(timer); timer = null; };

  const show = () => {
    status.textContent = statusText[order.status] ?? order.status;
    status.dataset.status = order.status;
    if (order.status === 'cancelled') {
      stop();
      countdown.textContent = '';
      const expired = remaining(order.expiresAt) === 0;
      area.replaceChildren(h('p', { class: 'notice' },
        expired ? 'This reservation has expired. ' : '',
        h('a', { href: '/', 'data-link': true }, 'Back to the tickets')));
      return;
    }
    if (order.status === 'complete') {
      stop();
      countdown.textContent = '';
      area.replaceChildren(h('p', {}, h('a', { href: '/orders', 'data-link': true }, 'See my orders')));
    }
  };

  const refresh = async () => {
    try {
      order = await get(`/api/orders/${encodeURIComponent(order.id)}`);
      show();
    } catch {
      // a failed poll is retried on the next tick
    }
  };

  const tick = async () => {
    const left = remaining(order.expiresAt);
    countdown.textContent = `Time left: ${clock(left)}`;
    countdown.dataset.seconds = String(left);
    if (left === 0 && order.status !== 'cancelled' && order.status !== 'complete') {
      countdown.textContent = 'Time is up.';
      await refresh();
    }
  };

  if (order.status === 'created' || order.status === 'awaiting:payment') {
    const stripe = config.payments === 'stripe' && config.stripePublishableKey
      ? await stripeCardForm(config.stripePublishableKey) : null;
    const form = h('form', { class: 'panel', novalidate: true },
      errorBox(), stripe ? stripe.element : fakeCardForm(),
      h('button', { type: 'submit', class: 'primary' }, `Pay ${formatPrice(order.ticket.price)}`));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const paid = await submitting(form, async () => {
        const token = stripe ? await stripe.token() : form.token.value;
        return post('/api/payments', { token, orderId: order.id });
      });
      if (!paid) return;
      // The order becomes complete through the event bus, a moment later.
      for (let i = 0; i < 20 && order.status !== 'complete'; i++) {
        await refresh();
        if (order.status !== 'complete') await new Promise((r) => setTimeout(r, 150));
      }
      show();
    });
    // Letting it go ends the reservation now: the next in line (if anyone waits) gets it.
    const release = h('form', { class: 'release' }, errorBox(),
      h('button', { type: 'submit' }, 'Cancel the reservation'));
    release.addEventListener('submit', async (event) => {
      event.preventDefault();
      if ((await submitting(release, () => del(`/api/orders/${encodeURIComponent(order.id)}`))) !== undefined) {
        await refresh();
      }
    });
    area.append(form, release);
    timer = setInterval(tick, 1000);
    tick();
  }
  show();
  return stop;
}
