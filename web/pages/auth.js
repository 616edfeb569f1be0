// Sign up and sign in share one form.
import { post } from '../api.js';
import { errorBox, field, h, pageTitle, submitting } from '../ui.js';

export async function render(main, { params, navigate }) {
  const signup = params.mode === 'signup';
  const form = h('form', { class: 'panel', novalidate: true },
    errorBox(),
    field({ label: 'Email', name: 'email', type: 'email', autocomplete: 'email', required: true }),
    field({ label: 'Password', name: 'password', type: 'password', required: true,
            autocomplete: signup ? 'new-password' : 'current-password' }),
    signup ? h('p', { class: 'hint' }, '4 to 20 characters.') : null,
    h('button', { type: 'submit', class: 'primary' }, signup ? 'Sign up' : 'Sign in'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { email: form.email.value, password: form.password.value };
    const user = await submitting(form, () => post(signup ? '/api/users/signup' : '/api/users/signin', body));
    if (user) await navigate('/');
  });
  main.append(pageTitle(signup ? 'Sign up' : 'Sign in'), form,
    h('p', {}, signup ? 'Already have an account? ' : 'New here? ',
      h('a', { href: signup ? '/auth/signin' : '/auth/signup', 'data-link': true }, signup ? 'Sign in' : 'Sign up')));
}
