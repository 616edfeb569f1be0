// Small DOM helpers shared by the pages.

// h('p', {class: 'x'}, 'text', child...) builds an element; attributes starting with "on" are
// event listeners. Text is always inserted as text, never as HTML.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function formatPrice(price) {
  return new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' }).format(price);
}

// A labelled input with a slot for its error message, tied together for screen readers.
export function field({ label, name, type = 'text', value = '', ...rest }) {
  const id = `f-${name}-${Math.random().toString(36).slice(2, 7)}`;
  const errorId = `${id}-error`;
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    h('input', { id, name, type, value, 'aria-describedby': errorId, ...rest }),
    h('p', { class: 'field-error', id: errorId, 'data-error-for': name, 'aria-live': 'polite' }));
}

// Clears earlier messages, then shows each error next to its field, or at the top of the form
// when it names no field (or a field the form does not have).
export function showErrors(form, errors) {
  clearErrors(form);
  const general = [];
  for (const error of errors) {
    const slot = error.field && form.querySelector(`[data-error-for="${error.field}"]`);
    if (slot) {
      slot.textContent = error.message;
      const input = form.querySelector(`[name="${error.field}"]`);
      if (input) input.setAttribute('aria-invalid', 'true');
    } else {
      general.push(error.message);
    }
  }
  const box = form.querySelector('.form-errors');
  if (box && general.length) {
    box.replaceChildren(...general.map((m) => h('p', {}, m)));
    box.hidden = false;
  }
  const firstInvalid = form.querySelector('[aria-invalid="true"]');
  if (firstInvalid) firstInvalid.focus();
}

export function clearErrors(form) {
  for (const slot of form.querySelectorAll('[data-error-for]')) slot.textContent = '';
  for (const input of form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
  const box = form.querySelector('.form-errors');
  if (box) {
    box.replaceChildren();
    box.hidden = true;
  }
}

export function errorBox() {
  return h('div', { class: 'form-errors', role: 'alert', hidden: true });
}

// Runs `work` with the form's buttons disabled, so a slow request cannot be sent twice; shows
// the API's errors when it fails.
export async function submitting(form, work) {
  const buttons = [...form.querySelectorAll('button')];
  for (const b of buttons) b.disabled = true;
  form.setAttribute('aria-busy', 'true');
  clearErrors(form);
  try {
    return await work();
  } catch (error) {
    showErrors(form, error.errors ?? [{ message: 'Something went wrong' }]);
    return undefined;
  } finally {
    for (const b of buttons) b.disabled = false;
    form.removeAttribute('aria-busy');
  }
}

export function pageTitle(text) {
  document.title = `${text} · ticketd`;
  return h('h1', {}, text);
}
