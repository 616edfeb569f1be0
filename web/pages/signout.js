import { post } from '../api.js';
import { h } from '../ui.js';

export async function render(main, { navigate }) {
  main.append(h('p', { class: 'muted' }, 'Signing you out…'));
  await post('/api/users/signout');
  await navigate('/', { replace: true });
}
