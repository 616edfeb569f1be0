import { after, before, test } from 'node:test';

import { newBrowser, sell, shot, signUp, startServer } from './harness.js';

let server;
before(async () => { server = await startServer(['--reservation-window', '3']); });
after(async () => { await server?.stop(); });

test('with a 3-second window the countdown reaches zero and the order shows as expired', async () => {
  const seller = await newBrowser();
  const buyer = await newBrowser();
  try {
    await signUp(seller.page, server.url, 'seller@example.com');
    await sell(seller.page, 'Late Show', '30');
    await signUp(buyer.page, server.url, 'buyer@example.com');
    await buyer.page.goto(server.url);
    await buyer.page.getByRole('link', { name: 'Late Show' }).click();
    await buyer.page.getByRole('button', { name: 'Purchase' }).click();
    await buyer.page.waitForURL(/\/orders\//);
    await buyer.page.locator('.countdown').filter({ hasText: /Time left: 0:0[0-3]/ }).waitFor();
    await buyer.page.getByText('This reservation has expired.').waitFor({ timeout: 15000 });
    await buyer.page.getByText('This order was cancelled.').waitFor();
    await shot(buyer.page, 'order-expired');
    await buyer.page.getByRole('link', { name: 'Back to the tickets' }).click();
    await buyer.page.getByRole('link', { name: 'Late Show' }).waitFor();
  } finally {
    await seller.close();
    await buyer.close();
  }
});
