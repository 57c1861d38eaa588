// Starts real Kassa processes (server + demo shop, SQLite file in a temp dir)
// and a real headless Chromium (Debian's) for the end-to-end tests.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

// axe-core, evaluated in the page through the DevTools protocol (the page's CSP allows no injected script).
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export const ROOT = process.env.KASSA_ROOT ?? path.resolve(import.meta.dirname, '../..');
const KASSA = process.env.KASSA_BIN ?? path.join(ROOT, 'target/debug/kassa');
const SHOP = process.env.SHOP_BIN ?? path.join(ROOT, 'target/debug/kassa-demo-shop');
// Screenshots go to a git-ignored folder; KASSA_SCREENSHOTS=docs/screenshots
// refreshes the ones the README shows.
export const SCREENSHOTS = path.resolve(ROOT, process.env.KASSA_SCREENSHOTS ?? 'tests/e2e/artifacts');

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function waitFor(url, ms = 20000) {
  const start = Date.now();
  for (;;) {
    try {
      const r = await fetch(url);
      if (r.status < 500) return;
    } catch { /* not up yet */ }
    if (Date.now() - start > ms) throw new Error(`${url} did not come up within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Servers this test file started: they go when it exits, even if it fails
// before `stop()` (a leftover would hold the test runner's output open).
const children = new Set();
process.on('exit', () => { for (const c of children) c.kill('SIGKILL'); });

function start(bin, args, env = {}) {
  const child = spawn(bin, args, { env: { ...process.env, KASSA_LOG: 'warn', ...env }, stdio: ['ignore', 'inherit', 'inherit'] });
  child.on('error', (e) => { throw e; });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

/** Everything one test file needs: URLs, credentials, a browser. */
export async function startStack() {
  const dir = mkdtempSync(path.join(tmpdir(), 'kassa-e2e-'));
  const db = `sqlite://${dir}/kassa.db`;
  const [kassaPort, shopPort, hostPort, strangerPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  // The host page that may frame the iframe link, and one that may not.
  const hostUrl = `http://127.0.0.1:${hostPort}`;
  const strangerUrl = `http://127.0.0.1:${strangerPort}`;
  const creds = JSON.parse(execFileSync(KASSA, [
    'merchant', 'create', 'e2e', '--name', 'E2E Test Shop', '--database-url', db,
    '--allowed-origin', hostUrl, '--allowed-origin', `http://127.0.0.1:${shopPort}`,
    '--webhook-url', `http://127.0.0.1:${shopPort}/webhooks/kassa`,
  ], { encoding: 'utf8' }));
  const credsFile = path.join(dir, 'merchant.json');
  writeFileSync(credsFile, JSON.stringify(creds));
  // The shop's RSA key for signed Process SDK orderDetails, registered with Kassa.
  execFileSync(KASSA, ['keygen', '--out', path.join(dir, 'shop-keys')]);
  execFileSync(KASSA, ['merchant', 'add-key', 'e2e', '--key-id', 'shop-key-1', '--database-url', db,
    '--public-key', path.join(dir, 'shop-keys/public_key.pem')]);
  // Where npm.test.mjs builds the npm/Vite demo app; the shop serves it at /integrations/npm/.
  const npmAppDir = path.join(dir, 'npm-app');
  writeFileSync(path.join(dir, 'logo.svg'),
    '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><rect width="120" height="40" rx="6" fill="#ffcc00"/></svg>');
  const themed = JSON.parse(execFileSync(KASSA, [
    'merchant', 'create', 'themed', '--name', 'Night Owl Books', '--database-url', db, '--accent', '#ffcc00', '--radius', '4',
    '--logo', path.join(dir, 'logo.svg'), '--appearance', 'dark',
  ], { encoding: 'utf8' }));
  const kassaUrl = `http://127.0.0.1:${kassaPort}`;
  const shopUrl = `http://127.0.0.1:${shopPort}`;
  const server = start(KASSA, [
    'serve', '--listen', `127.0.0.1:${kassaPort}`, '--database-url', db,
    '--assets-dir', path.join(ROOT, 'pkg'), '--www-dir', path.join(ROOT, 'www'), '--sandbox-delay-ms', '1500',
    // The shop receives webhooks on this machine.
    '--webhook-allow-private',
    // Every test pays from this one address.
    '--txns-per-minute-per-address', '100000',
  ]);
  const shop = start(SHOP, ['--listen', `127.0.0.1:${shopPort}`, '--kassa-url', kassaUrl, '--credentials', credsFile,
    '--www-dir', path.join(ROOT, 'www'), '--private-key', path.join(dir, 'shop-keys/private_key.pem'), '--key-id', 'shop-key-1',
    '--npm-app-dir', path.join(npmAppDir, 'dist')]);
  await waitFor(`${kassaUrl}/health`);
  await waitFor(`${shopUrl}/`);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-quic'],
  });
  mkdirSync(SCREENSHOTS, { recursive: true });
  const auth = 'Basic ' + Buffer.from(`${creds.api_key}:`).toString('base64');
  const hosts = [];
  return {
    kassaUrl, shopUrl, hostUrl, strangerUrl, creds, themed, browser, dir, npmAppDir,
    /** POST /orders as `merchant` (creds object), form-encoded; the JSON answer. */
    async createOrder(merchant, form) {
      const r = await fetch(`${kassaUrl}/orders`, {
        method: 'POST',
        headers: { Authorization: 'Basic ' + Buffer.from(`${merchant.api_key}:`).toString('base64'), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form).toString(),
      });
      return r.json();
    },
    /** Serves `html` at `/` (or, given a directory, its files) on the host or stranger origin, until the stack stops. */
    async serveHost(url, html, dir = null) {
      const { createServer } = await import('node:http');
      const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json' };
      const srv = createServer((req, res) => {
        if (!dir) { res.writeHead(200, { 'content-type': 'text/html' }); res.end(html); return; }
        const rel = new URL(req.url, url).pathname.replace(/^\/+/, '') || 'index.html';
        const file = path.join(dir, path.normalize(rel));
        if (!file.startsWith(dir)) { res.writeHead(404); res.end(); return; }
        try {
          const body = readFileSync(file);
          res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' });
          res.end(body);
        } catch { res.writeHead(404); res.end(); }
      });
      await new Promise((r) => srv.listen(Number(new URL(url).port), '127.0.0.1', r));
      hosts.push(srv);
    },
    /** The signed webhooks the demo shop received and verified for an order, once `want` of them are there. */
    async shopWebhooks(orderId, want = (events) => events.length > 0, ms = 15000) {
      const start = Date.now();
      for (;;) {
        const events = await (await fetch(`${shopUrl}/api/webhooks?order_id=${encodeURIComponent(orderId)}`)).json();
        if (want(events) || Date.now() - start > ms) return events;
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    /** GET /orders/:id with the merchant's API key. */
    async orderStatus(orderId) {
      const r = await fetch(`${kassaUrl}/orders/${orderId}`, { headers: { Authorization: auth } });
      return { http: r.status, body: await r.json() };
    },
    /** A page that records script errors and CSP violations. */
    async newPage(options = {}) {
      const context = await browser.newContext(options);
      const page = await context.newPage();
      page.problems = [];
      page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
      // No third-party request: fonts, icons and styles ship with the page.
      const ours = new Set([kassaUrl, shopUrl, hostUrl, strangerUrl]);
      page.on('request', (r) => {
        const u = new URL(r.url());
        if (!['data:', 'blob:', 'chrome-error:'].includes(u.protocol) && !ours.has(u.origin)) page.problems.push(`third-party request: ${r.url()}`);
      });
      page.on('console', (m) => {
        if (m.type() === 'error') page.problems.push(`console.error: ${m.text()}`);
      });
      return page;
    },
    /** axe-core over the whole page: the violations, WCAG 2.x A and AA rules. */
    async axe(page) {
      await page.evaluate(AXE_SOURCE);
      const result = await page.evaluate(() => window.axe.run(document, {
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
      }));
      return result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
    },
    async stop() {
      for (const h of hosts) h.close();
      await browser.close();
      for (const c of [server, shop]) c.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Pays by card inside a payment page `frame` (a frame locator): the card form, then the sandbox OTP page. */
export async function payCardInFrame(frame, number = '4111 1111 1111 1111', otp = '123456') {
  await frame.locator('#kassa-card-number').fill(number);
  await frame.locator('#kassa-card-expiry').fill('12/30');
  await frame.locator('#kassa-card-cvv').fill('123');
  await frame.locator('#kassa-card-name').fill('Asha Rao');
  await frame.locator('.kassa-pay').click();
  await frame.locator('#otp').fill(otp);
  await frame.locator('button[value=submit]').click();
}
