// Starts a real ticketd on a free port with a fresh data directory, and Chromium contexts that
// talk to it. Used by the browser tests.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const binary = process.env.TICKETD_BIN ?? resolve(here, '../../build/ticketd');
// The blog example (examples/blog), built beside ticketd.
export const blogBinary = process.env.BLOG_BIN ?? resolve(here, '../../build/examples/blog/blog');
export const screenshots = process.env.SCREENSHOT_DIR ?? resolve(here, '../../build/browser-screenshots');
mkdirSync(screenshots, { recursive: true });

export async function startServer(extraArgs = [], program = binary) {
  const dataDir = mkdtempSync(join(tmpdir(), 'ticketd-browser-'));
  const child = spawn(program, ['--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir,
    '--access-log', 'false', '--metrics-listen', '127.0.0.1:0', ...extraArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const url = await new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`ticketd did not start:\n${log}`)), 15000);
    child.stderr.on('data', (chunk) => {
      log += chunk;
      const m = log.match(/listening url=(http:\/\/127\.0\.0\.1:\d+)/);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`ticketd exited with ${code}:\n${log}`)));
  });
  return {
    url,
    log: () => log,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// A separate browser profile (its own cookies), like a second person on another machine.
export async function newBrowser() {
  const profile = mkdtempSync(join(tmpdir(), 'ticketd-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1100, height: 800 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  const page = context.pages()[0] ?? await context.newPage();
  const consoleErrors = [];
  page.on('console', (msg) => {
    // Failed API calls (4xx answers the page handles) are logged by Chromium; they are expected.
    if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text())) consoleErrors.push(msg.text());
  });
  page.on('pageerror', (err) => consoleErrors.push(String(err)));
  return {
    page,
    consoleErrors,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function shot(page, name) {
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
}

export async function signUp(page, base, email, password = 'secret1') {
  await page.goto(`${base}/auth/signup`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByRole('link', { name: 'Sign out' }).waitFor();
}

export async function sell(page, title, price) {
  await page.getByRole('link', { name: 'Sell a ticket' }).click();
  await page.getByLabel('Title').fill(title);
  await page.getByLabel('Price (USD)').fill(price);
  await page.getByRole('button', { name: 'List ticket' }).click();
  await page.getByRole('heading', { name: title }).waitFor();
}
