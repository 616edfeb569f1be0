// The blog's own page: create posts and comments, and watch moderation decide (GET /posts is
// polled while a comment is pending). Every text from the server goes in as text, never HTML.
const postsEl = document.getElementById('posts');
// Posts and comments just written that the view, a few milliseconds behind, may not show yet:
// polled for quickly until it does (for ten seconds at most).
const awaiting = new Map();  // id -> when to stop waiting for it
const awaitId = (id) => awaiting.set(id, Date.now() + 10000);

async function call(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const message = (data.errors || []).map((e) => e.message).join(', ') || `HTTP ${res.status}`;
    throw new Error(message);
  }
  return data;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
}

function commentsList(comments) {
  const list = el('ul', { class: 'comments' });
  for (const c of comments) {
    list.append(el('li', { class: `comment ${c.status}` },
      el('span', { class: 'content' }, c.content), ' ',
      el('span', { class: `status ${c.status}` }, c.status)));
  }
  if (comments.length === 0) list.append(el('li', { class: 'none' }, 'No comments yet.'));
  return list;
}

function commentForm(post) {
  const id = `comment-${post.id}`;
  const input = el('input', { id, name: 'content', autocomplete: 'off', placeholder: 'Comment' });
  const error = el('p', { class: 'error', role: 'alert' });
  const form = el('form', { novalidate: '' },
    el('label', { for: id }, `Comment on ${post.title}`),
    el('div', { class: 'row' }, input, el('button', { type: 'submit' }, 'Add comment')),
    error);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    try {
      // The answer is the post's comments, the new one pending: shown at once, until the view,
      // a few milliseconds behind, says what moderation decided.
      const comments = await call('POST', `/posts/${post.id}/comments`, { content: input.value });
      awaitId(comments[comments.length - 1].id);
      input.value = '';
      form.parentElement.querySelector('.comments').replaceWith(commentsList(comments));
      refresh();
    } catch (e) {
      error.textContent = e.message;
    }
  });
  return form;
}

let drafts = {};
function render(posts) {
  // Keep what someone is typing across a refresh.
  drafts = {};
  for (const input of postsEl.querySelectorAll('input')) drafts[input.id] = input.value;
  const focused = document.activeElement && document.activeElement.id;
  postsEl.replaceChildren();
  const list = Object.values(posts);
  if (list.length === 0) postsEl.append(el('p', { class: 'empty' }, 'No posts yet.'));
  for (const post of list) {
    postsEl.append(el('article', { class: 'post' }, el('h2', {}, post.title), commentsList(post.comments),
      commentForm(post)));
  }
  for (const [id, value] of Object.entries(drafts)) {
    const input = document.getElementById(id);
    if (input) input.value = value;
  }
  if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
}

let timer = null;
async function refresh() {
  clearTimeout(timer);
  try {
    const posts = await call('GET', '/posts');
    for (const p of Object.values(posts)) {
      awaiting.delete(p.id);
      for (const c of p.comments) awaiting.delete(c.id);
    }
    for (const [id, until] of awaiting) if (until < Date.now()) awaiting.delete(id);
    // A comment the view does not have yet would vanish until then: keep the page as it is.
    if (awaiting.size === 0 || ![...postsEl.querySelectorAll('.comment')].length) render(posts);
    const pending = Object.values(posts).some((p) => p.comments.some((c) => c.status === 'pending'));
    timer = setTimeout(refresh, pending || awaiting.size > 0 ? 300 : 3000);
  } catch (e) {
    timer = setTimeout(refresh, 3000);
  }
}

document.getElementById('new-post').addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = document.getElementById('post-title');
  const error = document.getElementById('post-error');
  error.textContent = '';
  try {
    const post = await call('POST', '/posts/create', { title: input.value });
    awaitId(post.id);
    input.value = '';
    // The view learns of the post through the bus, a few milliseconds later.
    setTimeout(refresh, 50);
  } catch (e) {
    error.textContent = e.message;
  }
});

refresh();
