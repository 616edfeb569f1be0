import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { newBrowser, sell, shot, signUp, startServer } from './harness.js';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

test('a seller lists a ticket and a buyer in another browser buys and pays for it', async () => {
  const seller = await newBrowser();
  const buyer = await newBrowser();
  try {
    await signUp(seller.page, server.url, 'seller@example.com');
    await sell(seller.page, 'Jazz Night', '42.50');
    assert.match(await seller.page.locator('.price.big').textContent(), /\$42\.50/);

    await signUp(buyer.page, server.url, 'buyer@example.com');
    await buyer.page.getByRole('link', { name: 'Tickets', exact: true }).click();
    await buyer.page.getByRole('link', { name: 'Jazz Night' }).click();
    await buyer.page.getByRole('heading', { name: 'History' }).waitFor();
    const ticketUrl = buyer.page.url();
    await buyer.page.getByRole('button', { name: 'Purchase' }).click();
    await buyer.page.waitForURL(/\/orders\/[0-9a-f]+$/);
    const countdown = buyer.page.locator('.countdown');
    await countdown.filter({ hasText: /Time left: 1[45]:\d\d/ }).waitFor();
    await shot(buyer.page, 'order-before-payment');

    await buyer.page.getByLabel(/succeeds/).check();
    await buyer.page.getByRole('button', { name: /^Pay/ }).click();
    await buyer.page.getByText('Paid. The ticket is yours.').waitFor();
    await shot(buyer.page, 'order-paid');

    await buyer.page.getByRole('link', { name: 'My orders', exact: true }).click();
    await buyer.page.getByRole('cell', { name: 'complete' }).waitFor();
    await shot(buyer.page, 'my-orders');

    // The ticket is the buyer's now, and its history says it was sold.
    // (The ticket learns of the completed order by an event: look again until it has.)
    for (let i = 0; i < 20; i += 1) {
      await buyer.page.goto(ticketUrl);
      await buyer.page.getByRole('heading', { name: 'History' }).waitFor();
      if (await buyer.page.getByText('This ticket is yours.').count()) break;
      await buyer.page.waitForTimeout(250);
    }
    await buyer.page.getByText('This ticket is yours.').waitFor();
    assert.deepEqual(await buyer.page.locator('.history .history-event').allTextContents(), ['Listed', 'Sold']);
    await shot(buyer.page, 'ticket-history');

    await buyer.page.getByRole('link', { name: 'Tickets', exact: true }).click();
    await buyer.page.getByRole('heading', { name: 'Tickets for sale' }).waitFor();
    assert.equal(await buyer.page.getByRole('link', { name: 'Jazz Night' }).count(), 0);
    await shot(buyer.page, 'listing-after-sale');

    // The sold ticket changed hands: off the seller's tickets, on the buyer's, held by the sale
    // (bought: it can be resold, not edited).
    await seller.page.getByRole('link', { name: 'My tickets', exact: true }).click();
    await seller.page.getByRole('heading', { name: 'My tickets' }).waitFor();
    await seller.page.getByText('You have no tickets.').waitFor();
    await buyer.page.getByRole('link', { name: 'My tickets', exact: true }).click();
    await buyer.page.locator('.badge.yours').waitFor();
    assert.equal(await buyer.page.getByLabel('Price (USD)').count(), 0);
    await buyer.page.getByLabel('Resell for (USD)').fill('99');
    await buyer.page.getByRole('button', { name: 'Resell' }).click();
    await buyer.page.getByText('Price must be at most the face value').waitFor();
    await shot(buyer.page, 'resale-over-cap');
    assert.deepEqual([...seller.consoleErrors, ...buyer.consoleErrors], []);
  } finally {
    await seller.close();
    await buyer.close();
  }
});

test('a declined card shows the provider message and the order stays payable', async () => {
  const seller = await newBrowser();
  const buyer = await newBrowser();
  try {
    await signUp(seller.page, server.url, 'seller2@example.com');
    await sell(seller.page, 'Opera Matinee', '15');
    await signUp(buyer.page, server.url, 'buyer2@example.com');
    await buyer.page.goto(server.url);
    await buyer.page.getByRole('link', { name: 'Opera Matinee' }).click();
    await buyer.page.getByRole('button', { name: 'Purchase' }).click();
    await buyer.page.waitForURL(/\/orders\//);
    await buyer.page.getByLabel(/declined/).check();
    await buyer.page.getByRole('button', { name: /^Pay/ }).click();
    await buyer.page.getByRole('alert').filter({ hasText: 'Your card was declined.' }).waitFor();
    await shot(buyer.page, 'card-declined');
    assert.equal(await buyer.page.getByRole('button', { name: /^Pay/ }).isEnabled(), true);

    await buyer.page.getByLabel(/succeeds/).check();
    await buyer.page.getByRole('button', { name: /^Pay/ }).click();
    await buyer.page.getByText('Paid. The ticket is yours.').waitFor();
    assert.deepEqual(buyer.consoleErrors, []);
  } finally {
    await seller.close();
    await buyer.close();
  }
});

test('validation errors appear next to the fields they name', async () => {
  const person = await newBrowser();
  try {
    const { page } = person;
    await page.goto(`${server.url}/auth/signup`);
    await page.getByLabel('Email').fill('not-an-email');
    await page.getByLabel('Password').fill('ab');
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.locator('[data-error-for="email"]').filter({ hasText: 'Email must be valid' }).waitFor();
    await page.locator('[data-error-for="password"]')
      .filter({ hasText: 'Password must be between 4 and 20 characters' }).waitFor();
    assert.equal(await page.getByLabel('Email').getAttribute('aria-invalid'), 'true');
    await shot(page, 'signup-validation');

    await signUp(page, server.url, 'validator@example.com');
    await page.getByRole('link', { name: 'Sell a ticket' }).click();
    await page.getByLabel('Price (USD)').fill('0');
    await page.getByRole('button', { name: 'List ticket' }).click();
    await page.locator('[data-error-for="title"]').filter({ hasText: 'Title is required' }).waitFor();
    await page.locator('[data-error-for="price"]').filter({ hasText: 'Price must be greater than 0' }).waitFor();
    await page.getByLabel('Title').fill('Cheap');
    await page.getByLabel('Price (USD)').fill('1.234');
    await page.getByRole('button', { name: 'List ticket' }).click();
    await page.locator('[data-error-for="price"]').filter({ hasText: 'Price must have at most two decimals' }).waitFor();
    await shot(page, 'sell-validation');

    // Keyboard only: the skip link is the first stop and leads to the content.
    await page.goto(server.url);
    await page.getByRole('heading', { name: 'Tickets for sale' }).waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Skip to content');
    assert.deepEqual(person.consoleErrors, []);
  } finally {
    await person.close();
  }
});

test('the page is readable on a phone', async () => {
  const person = await newBrowser();
  try {
    await person.page.setViewportSize({ width: 390, height: 844 });
    await signUp(person.page, server.url, 'phone@example.com');
    await sell(person.page, 'Festival Pass', '120');
    await person.page.goto(server.url);
    const overflow = await person.page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    assert.equal(overflow, false);
    await shot(person.page, 'phone-listing');
  } finally {
    await person.close();
  }
});
