import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { newBrowser, sell, shot, signUp, startServer } from './harness.js';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

// Opens the ticket from the front page's listing.
async function openTicket(page, title) {
  await page.getByRole('link', { name: 'Tickets', exact: true }).click();
  await page.getByRole('link', { name: title }).click();
  await page.getByRole('heading', { name: 'History' }).waitFor();
}

// Returns the ticket page's address.
async function reserveAndPay(page, title) {
  await openTicket(page, title);
  const ticketUrl = page.url();
  await page.getByRole('button', { name: 'Purchase' }).click();
  await page.waitForURL(/\/orders\/[0-9a-f]+$/);
  await page.getByRole('button', { name: /^Pay/ }).click();
  await page.getByText('Paid. The ticket is yours.').waitFor();
  return ticketUrl;
}

// Reloads `url` until `text` shows: the ticket learns of a sale by an event, a moment later.
async function eventually(page, url, text) {
  for (let i = 0; i < 20; i += 1) {
    await page.goto(url);
    await page.getByRole('heading', { name: 'History' }).waitFor();
    if (await page.getByText(text).count()) return;
    await page.waitForTimeout(250);
  }
  await page.getByText(text).waitFor();
}

test('a buyer resells a ticket from My tickets within the cap and someone else buys it', async () => {
  const seller = await newBrowser();
  const first = await newBrowser();
  const second = await newBrowser();
  try {
    await signUp(seller.page, server.url, 'resale-seller@example.com');
    await sell(seller.page, 'Blues Night', '40');
    await signUp(first.page, server.url, 'resale-first@example.com');
    await reserveAndPay(first.page, 'Blues Night');

    // My tickets: bought, with the cap next to the Resell form.
    for (let i = 0; i < 20; i += 1) {
      await first.page.getByRole('link', { name: 'My tickets', exact: true }).click();
      await first.page.getByRole('heading', { name: 'My tickets' }).waitFor();
      if (await first.page.locator('.badge.yours').count()) break;
      await first.page.waitForTimeout(250);
    }
    await first.page.getByText('At most the face value, $40.00.').waitFor();
    await first.page.getByLabel('Resell for (USD)').fill('45');
    await first.page.getByRole('button', { name: 'Resell' }).click();
    await first.page.getByText('Price must be at most the face value').waitFor();
    await shot(first.page, 'resale-refused-over-cap');
    await first.page.getByLabel('Resell for (USD)').fill('35');
    await first.page.getByRole('button', { name: 'Resell' }).click();
    await first.page.getByText('Blues Night is listed again at $35.00.').waitFor();
    await first.page.locator('.badge.listed').waitFor();
    await shot(first.page, 'my-tickets-relisted');

    // Listed again: found, bought and paid by someone else; the history tells the story.
    await signUp(second.page, server.url, 'resale-second@example.com');
    const ticketUrl = await reserveAndPay(second.page, 'Blues Night');
    await eventually(second.page, ticketUrl, 'This ticket is yours.');
    assert.deepEqual(await second.page.locator('.history .history-event').allTextContents(),
      ['Listed', 'Sold', 'Relisted', 'Sold']);
    await shot(second.page, 'ticket-history-resold');
    await first.page.getByRole('link', { name: 'My tickets', exact: true }).click();
    await first.page.getByText('You have no tickets.').waitFor();
    assert.deepEqual([...seller.consoleErrors, ...first.consoleErrors, ...second.consoleErrors], []);
  } finally {
    await seller.close();
    await first.close();
    await second.close();
  }
});

test('a refused buyer joins the waiting list and gets the ticket when the reservation is cancelled', async () => {
  const seller = await newBrowser();
  const holder = await newBrowser();
  const waiter = await newBrowser();
  try {
    await signUp(seller.page, server.url, 'wait-seller@example.com');
    await sell(seller.page, 'Folk Night', '25');
    // The waiter opens the ticket while it is still listed...
    await signUp(waiter.page, server.url, 'wait-waiter@example.com');
    await openTicket(waiter.page, 'Folk Night');
    const ticketUrl = waiter.page.url();
    // ...and the holder reserves it first.
    await signUp(holder.page, server.url, 'wait-holder@example.com');
    await openTicket(holder.page, 'Folk Night');
    await holder.page.getByRole('button', { name: 'Purchase' }).click();
    await holder.page.waitForURL(/\/orders\/[0-9a-f]+$/);

    // Refused: offered the line, joined, and shown the place.
    await waiter.page.getByRole('button', { name: 'Purchase' }).click();
    await waiter.page.getByText('Ticket is already reserved').waitFor();
    await waiter.page.getByRole('button', { name: 'Join the waiting list' }).click();
    await waiter.page.getByText('You are number 1 of 1 in line.').waitFor();
    await shot(waiter.page, 'waitlist-joined');
    // The place is kept: the ticket page shows it again on the next visit.
    await waiter.page.goto(ticketUrl);
    await waiter.page.getByText('You are number 1 of 1 in line.').waitFor();

    // The holder lets it go: the line hands it over at once.
    await holder.page.getByRole('button', { name: 'Cancel the reservation' }).click();
    await holder.page.getByText('This order was cancelled.').waitFor();

    // On the next page load the waiter is told, and the order is theirs to pay, with a countdown.
    await waiter.page.getByRole('link', { name: 'Tickets', exact: true }).click();
    const banner = waiter.page.getByText('A ticket you waited for is yours:');
    await banner.waitFor();
    await shot(waiter.page, 'waitlist-handed-over-banner');
    await waiter.page.getByRole('link', { name: 'My orders', exact: true }).click();
    await waiter.page.getByText(/\d+:\d\d left to pay/).waitFor();
    await shot(waiter.page, 'waitlist-my-orders-countdown');
    await waiter.page.getByRole('table').getByRole('link', { name: 'Folk Night' }).click();
    await waiter.page.locator('.countdown').filter({ hasText: /Time left: 1[45]:\d\d/ }).waitFor();
    await waiter.page.getByRole('button', { name: /^Pay/ }).click();
    await waiter.page.getByText('Paid. The ticket is yours.').waitFor();
    // Seen: no banner any more.
    await waiter.page.getByRole('link', { name: 'Tickets', exact: true }).click();
    await waiter.page.getByRole('heading', { name: 'Tickets for sale' }).waitFor();
    assert.equal(await banner.count(), 0);
    await eventually(waiter.page, ticketUrl, 'This ticket is yours.');
    assert.deepEqual([...seller.consoleErrors, ...holder.consoleErrors, ...waiter.consoleErrors], []);
  } finally {
    await seller.close();
    await holder.close();
    await waiter.close();
  }
});
