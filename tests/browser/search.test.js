import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { newBrowser, sell, shot, signUp, startServer } from './harness.js';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

const titles = async (page) => page.locator('.cards .card-title').allTextContents();

test('a buyer searches the listing by words, price and sort, and the search stays in the address', async () => {
  const seller = await newBrowser();
  const buyer = await newBrowser();
  try {
    await signUp(seller.page, server.url, 'search-seller@example.com');
    await sell(seller.page, 'Beyoncé Renaissance', '120');
    await sell(seller.page, 'Radiohead OK Computer', '80');
    await sell(seller.page, 'Radiohead Kid A', '60');
    await sell(seller.page, 'AC/DC Power Up', '95.50');

    await signUp(buyer.page, server.url, 'search-buyer@example.com');
    await buyer.page.getByRole('link', { name: 'Tickets', exact: true }).click();
    await buyer.page.getByText('4 tickets').waitFor();

    // Words match the start of words, any order, without accents.
    const search = buyer.page.getByRole('search');
    await search.getByLabel('Search').fill('radio comp');
    await search.getByRole('button', { name: 'Search' }).click();
    await buyer.page.getByText('1 ticket', { exact: true }).waitFor();
    assert.deepEqual(await titles(buyer.page), ['Radiohead OK Computer']);
    assert.match(buyer.page.url(), /\?q=radio\+comp$/);

    await search.getByLabel('Search').fill('beyonce');
    await search.getByRole('button', { name: 'Search' }).click();
    await buyer.page.getByRole('link', { name: 'Beyoncé Renaissance' }).waitFor();
    assert.deepEqual(await titles(buyer.page), ['Beyoncé Renaissance']);

    // A price range and a sort.
    await search.getByLabel('Search').fill('');
    await search.getByLabel('Price to (USD)').fill('100');
    await search.getByLabel('Sort').selectOption({ label: 'Price: high to low' });
    await search.getByRole('button', { name: 'Search' }).click();
    await buyer.page.getByText('3 tickets').waitFor();
    assert.deepEqual(await titles(buyer.page), ['AC/DC Power Up', 'Radiohead OK Computer', 'Radiohead Kid A']);
    await shot(buyer.page, 'search-price-sorted');

    // Back returns to the earlier search, filled in again.
    await buyer.page.goBack();
    await buyer.page.getByRole('link', { name: 'Beyoncé Renaissance' }).waitFor();
    assert.equal(await buyer.page.getByRole('search').getByLabel('Search').inputValue(), 'beyonce');

    // Nothing found, and a range the API refuses, each said plainly.
    await search.getByLabel('Search').fill('zeppelin');
    await search.getByRole('button', { name: 'Search' }).click();
    await buyer.page.getByText('No tickets match your search.').waitFor();
    await search.getByLabel('Search').fill('');
    await search.getByLabel('Price from (USD)').fill('90');
    await search.getByLabel('Price to (USD)').fill('10');
    await search.getByRole('button', { name: 'Search' }).click();
    await buyer.page.getByText('maxPrice must be at least minPrice').waitFor();
    await shot(buyer.page, 'search-refused-range');
    assert.deepEqual([...seller.consoleErrors, ...buyer.consoleErrors].filter((e) => !/400/.test(e)), []);
  } finally {
    await seller.close();
    await buyer.close();
  }
});
