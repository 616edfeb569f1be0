// The listing and its search: tickets that are not reserved or sold, found by words of the
// title, a price range and a sort. The search lives in the address (/?q=radio&sort=price), so a
// result can be shared and the back button works.
import { getPage } from '../api.js';
import { errorBox, formatPrice, h, pageTitle, showErrors } from '../ui.js';

const sorts = [
  ['newest', 'Newest'],
  ['price', 'Price: low to high'],
  ['-price', 'Price: high to low'],
];

function searchForm(params, navigate) {
  const input = (name, label, attrs) => {
    const id = `search-${name}`;
    return h('div', { class: 'field' },
      h('label', { for: id }, label),
      h('input', { id, name, value: params.get(name) ?? '', 'aria-describedby': `${id}-error`, ...attrs }),
      h('p', { class: 'field-error', id: `${id}-error`, 'data-error-for': name, 'aria-live': 'polite' }));
  };
  const sort = h('select', { id: 'search-sort', name: 'sort' },
    sorts.map(([value, label]) => h('option', { value, selected: (params.get('sort') ?? 'newest') === value }, label)));
  const form = h('form', { class: 'search', role: 'search', 'aria-label': 'Search tickets' },
    errorBox(),
    input('q', 'Search', { type: 'search', maxlength: 100, placeholder: 'Artist, show, city…' }),
    input('minPrice', 'Price from (USD)', { type: 'number', min: 0, step: '0.01', inputmode: 'decimal' }),
    input('maxPrice', 'Price to (USD)', { type: 'number', min: 0, step: '0.01', inputmode: 'decimal' }),
    h('div', { class: 'field' }, h('label', { for: 'search-sort' }, 'Sort'), sort,
      h('p', { class: 'field-error', 'data-error-for': 'sort' })),
    h('button', { type: 'submit' }, 'Search'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const [key, value] of new FormData(form)) {
      if (String(value).trim() !== '' && !(key === 'sort' && value === 'newest')) next.set(key, String(value).trim());
    }
    const query = next.toString();
    navigate(query ? `/?${query}` : '/');
  });
  return form;
}

export async function render(main, ctx) {
  const params = new URLSearchParams(location.search);
  main.append(pageTitle('Tickets for sale'));
  const form = searchForm(params, ctx.navigate);
  main.append(form);
  const searching = ['q', 'minPrice', 'maxPrice'].some((k) => (params.get(k) ?? '').trim() !== '');
  const query = new URLSearchParams({ limit: '200' });
  for (const key of ['q', 'minPrice', 'maxPrice', 'sort']) if (params.get(key)) query.set(key, params.get(key));
  let page;
  try {
    page = await getPage(`/api/tickets?${query}`);
  } catch (error) {
    showErrors(form, error.errors ?? [{ message: 'Something went wrong' }]);
    return;
  }
  const { items: tickets, total } = page;
  if (!tickets.length) {
    main.append(searching
      ? h('p', { class: 'muted', role: 'status' }, 'No tickets match your search.')
      : h('p', { class: 'muted' }, 'No tickets are for sale right now. ',
        h('a', { href: '/tickets/new', 'data-link': true }, 'Sell one'), '.'));
    return;
  }
  main.append(h('p', { class: 'muted result-count', role: 'status' },
    total === 1 ? '1 ticket' : `${total} tickets`, total > tickets.length ? ` (showing ${tickets.length})` : ''));
  main.append(h('ul', { class: 'cards', 'aria-label': 'Tickets' }, tickets.map((t) =>
    h('li', { class: 'card' },
      h('a', { href: `/tickets/${encodeURIComponent(t.id)}`, 'data-link': true, class: 'card-title' }, t.title),
      h('span', { class: 'price' }, formatPrice(t.price))))));
}
