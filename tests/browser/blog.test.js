// The blog example's own page (examples/blog/web) in Chromium, against the real blog binary:
// create a post, comment, and watch moderation turn pending into approved or rejected.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';

import { blogBinary, newBrowser, shot, startServer } from './harness.js';

// Built by default; a build with -DTICKETD_EXAMPLES=OFF has no blog to test.
const skip = existsSync(blogBinary) ? false : `no blog binary at ${blogBinary}`;
let server;
before(async () => { if (!skip) server = await startServer([], blogBinary); });
after(async () => { await server?.stop(); });

test('on the blog a reader posts and comments and sees moderation decide', { skip }, async () => {
  const reader = await newBrowser();
  const other = await newBrowser();
  try {
    const { page } = reader;
    await page.goto(server.url);
    await page.getByText('No posts yet.').waitFor();
    // A blank title is refused with the API's message, next to the form.
    await page.getByRole('button', { name: 'Create post' }).click();
    await page.getByText('Title is required').waitFor();
    await page.getByLabel('New post').fill('Fruit <b>stand</b>');
    await page.getByRole('button', { name: 'Create post' }).click();
    const post = page.locator('.post').filter({ hasText: 'Fruit <b>stand</b>' });
    await post.waitFor();  // shown as text, never as HTML
    assert.equal(await page.locator('.post b').count(), 0);

    // While the view is slow to answer, the new comment shows as pending; then as decided.
    let release;
    const slow = new Promise((r) => { release = r; });
    await page.route('**/posts', async (route) => { await slow; await route.continue(); });
    await page.getByLabel('Comment on Fruit <b>stand</b>').fill('Apples are great');
    await page.getByRole('button', { name: 'Add comment' }).click();
    await post.locator('.comment.pending').filter({ hasText: 'Apples are great' }).waitFor();
    await shot(page, 'blog-pending');
    release();
    await post.locator('.comment.approved').filter({ hasText: 'Apples are great' }).waitFor();
    await page.getByLabel('Comment on Fruit <b>stand</b>').fill('I only eat oranges');
    await page.getByRole('button', { name: 'Add comment' }).click();
    await post.locator('.comment.rejected').filter({ hasText: 'I only eat oranges' }).waitFor();
    await shot(page, 'blog-moderated');
    assert.deepEqual(await post.locator('.comment .status').allTextContents(), ['approved', 'rejected']);

    // An empty comment is refused and adds nothing.
    await page.getByRole('button', { name: 'Add comment' }).click();
    await page.getByText('Content is required').waitFor();
    assert.equal(await post.locator('.comment').count(), 2);

    // Another reader sees the same page, from the query view.
    await other.page.goto(server.url);
    const seen = other.page.locator('.post').filter({ hasText: 'Fruit <b>stand</b>' });
    await seen.locator('.comment.rejected').waitFor();
    assert.deepEqual(await seen.locator('.comment .content').allTextContents(), ['Apples are great', 'I only eat oranges']);
    assert.deepEqual([...reader.consoleErrors, ...other.consoleErrors], []);
  } finally {
    await reader.close();
    await other.close();
  }
});
