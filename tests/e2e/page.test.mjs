// The payment page itself, in a real browser: every method to CHARGED and to
// failure, the web and mobile variants, payment_options subsets, three
// languages besides English, UPI collect with its countdown and cancel, and
// axe-core (WCAG 2.2 A/AA rules) on each state with zero violations.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { startStack, SCREENSHOTS, ROOT } from './harness.mjs';

let stack;
before(async () => { stack = await startStack(); });
after(async () => { await stack?.stop(); });

const MOBILE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };
const tabs = (page) => page.$$eval('[role=tab]', (t) => t.map((x) => x.textContent.trim()));

/** Opens the shop, buys, and opens the payment page with `query`; waits until it can be used. */
async function open(page, query = '') {
  await page.goto(`${stack.shopUrl}/`);
  await page.click('#buy');
  await page.waitForURL(/\/merchant\/pay\/ord_[0-9a-f]{32}$/);
  const orderPk = page.url().match(/ord_[0-9a-f]{32}/)[0];
  if (query) await page.goto(page.url() + query);
  await page.waitForSelector('.kassa-pay:not([disabled])');
  return orderPk;
}

async function noViolations(page, state) {
  assert.deepEqual(await stack.axe(page), [], `axe-core violations (${state})`);
}

/** Back at the shop: the status it verified from the signed return URL and GET /orders. */
async function shopSays(page) {
  await page.waitForURL(new RegExp(`^${stack.shopUrl}/return\\?`), { timeout: 20000 });
  return page.textContent('#status');
}

test('UPI collect in Hindi (web): countdown while the app is asked, then CHARGED', async () => {
  const page = await stack.newPage({ viewport: { width: 1280, height: 860 } });
  await open(page, '?language=hindi&payment_options=upi');
  assert.equal(await page.getAttribute('.kassa', 'lang'), 'hi');
  assert.deepEqual(await tabs(page), ['UPI']);
  assert.match(await page.textContent('.kassa-pay'), /^₹499\.00 का भुगतान करें$/);
  assert.match(await page.textContent('[data-testid=expiry]'), /^यह लिंक \d+:\d\d में समाप्त होगा।$/);
  await noViolations(page, 'hindi upi form');
  await page.fill('#kassa-upi-id', 'not-a-vpa');
  await page.click('.kassa-pay');
  assert.equal(await page.textContent('#kassa-upi-id-error'), 'मान्य UPI आईडी दर्ज करें, जैसे name@bank।');
  await noViolations(page, 'hindi upi error');
  await page.fill('#kassa-upi-id', 'success@kassa');
  await page.click('.kassa-pay');
  await page.waitForSelector('.kassa-collect');
  assert.match(await page.textContent('[data-testid=collect-time]'), /^बचा समय: \d+:\d\d$/);
  await page.screenshot({ path: path.join(SCREENSHOTS, 'payment-page-upi-hindi.png') });
  await noViolations(page, 'hindi upi waiting');
  assert.equal(await shopSays(page), 'CHARGED');
  assert.deepEqual(page.problems, []);
});

test('UPI collect declined (failure@kassa) in Bengali, mobile: AUTHORIZATION_FAILED', async () => {
  const page = await stack.newPage(MOBILE);
  await open(page, '?mobile=true&language=bengali&payment_options=upi');
  assert.equal(await page.getAttribute('.kassa', 'lang'), 'bn');
  assert.deepEqual(await tabs(page), ['UPI']);
  await page.fill('#kassa-upi-id', 'failure@kassa');
  await page.click('.kassa-pay');
  await page.waitForSelector('.kassa-collect');
  await noViolations(page, 'bengali upi waiting, mobile');
  assert.equal(await shopSays(page), 'AUTHORIZATION_FAILED');
});

test('a UPI collect can be cancelled, and the order can then be paid by card', async () => {
  const page = await stack.newPage();
  const orderPk = await open(page);
  await page.click('#kassa-tab-upi');
  await page.fill('#kassa-upi-id', 'success@kassa');
  await page.click('.kassa-pay');
  await page.waitForSelector('.kassa-collect');
  await page.click('.kassa-collect .kassa-secondary');
  assert.match(await page.textContent('.kassa-status'), /The payment was cancelled/);
  await noViolations(page, 'upi cancelled');
  await page.click('#kassa-tab-card');
  await page.fill('#kassa-card-number', '4111 1111 1111 1111');
  await page.fill('#kassa-card-expiry', '12/30');
  await page.fill('#kassa-card-cvv', '123');
  await page.fill('#kassa-card-name', 'Asha Rao');
  await page.click('.kassa-pay');
  await page.waitForURL(/\/sandbox\/bank\//);
  await page.fill('#otp', '123456');
  await page.click('button[value=submit]');
  assert.equal(await shopSays(page), 'CHARGED');
  const order = await stack.orderStatus(await page.textContent('#order-id'));
  assert.equal(order.body.id, orderPk);
  assert.equal(order.body.status, 'CHARGED');
});

test('wallet in Tamil (mobile): the wallet page declines, AUTHORIZATION_FAILED', async () => {
  const page = await stack.newPage(MOBILE);
  await open(page, '?mobile=true&language=tamil&payment_options=wallet|card');
  assert.equal(await page.getAttribute('.kassa', 'lang'), 'ta');
  assert.deepEqual(await tabs(page), ['கார்டு', 'வாலெட்']);
  await page.click('#kassa-tab-wallet');
  await page.click('.kassa-pay');
  assert.equal(await page.textContent('.kassa-form .kassa-error'), 'ஒரு வாலெட்டைத் தேர்ந்தெடுங்கள்.');
  await noViolations(page, 'tamil wallet error, mobile');
  await page.check('input[value=PHONEPE]');
  await page.click('.kassa-pay');
  await page.waitForURL(/\/sandbox\/bank\//);
  await page.click('button[value=decline]');
  assert.equal(await shopSays(page), 'AUTHORIZATION_FAILED');
});

test('wallet to CHARGED and netbanking search to failure (web, English)', async () => {
  const page = await stack.newPage();
  await open(page, '?payment_options=wallet');
  await page.check('input[value=PAYTM]');
  await noViolations(page, 'wallet chosen');
  await page.click('.kassa-pay');
  await page.waitForURL(/\/sandbox\/bank\//);
  await page.click('button[value=approve]');
  assert.equal(await shopSays(page), 'CHARGED');

  const nb = await stack.newPage();
  await open(nb, '?payment_options=nb');
  assert.deepEqual(await nb.$$eval('.kassa-group', (g) => g.map((x) => x.textContent)), ['Popular banks', 'All banks']);
  await nb.fill('#kassa-bank-search', 'baroda');
  assert.deepEqual(await nb.$$eval('.kassa-choice span', (s) => s.map((x) => x.textContent)), ['Bank of Baroda']);
  await nb.fill('#kassa-bank-search', 'nothing like it');
  assert.equal(await nb.textContent('.kassa-empty'), 'No bank matches your search.');
  await noViolations(nb, 'bank search, no match');
  await nb.fill('#kassa-bank-search', 'pnb');
  await nb.check('input[value=NB_PNB]');
  await nb.click('.kassa-pay');
  await nb.waitForURL(/\/sandbox\/bank\//);
  await nb.click('button[value=decline]');
  assert.equal(await shopSays(nb), 'AUTHORIZATION_FAILED');
});

test('card to CHARGED in the mobile variant, with no axe-core violations on the way', async () => {
  const page = await stack.newPage(MOBILE);
  await open(page, '?mobile=true');
  assert.equal(await page.getAttribute('#kassa-card-number', 'inputmode'), 'numeric');
  await noViolations(page, 'card form, mobile');
  await page.click('.kassa-pay');
  await noViolations(page, 'card form with errors, mobile');
  await page.fill('#kassa-card-number', '4111 1111 1111 1111');
  await page.fill('#kassa-card-expiry', '12/30');
  await page.fill('#kassa-card-cvv', '123');
  await page.fill('#kassa-card-name', 'Asha Rao');
  await page.click('.kassa-pay');
  await page.waitForURL(/\/sandbox\/bank\//);
  await page.fill('#otp', '123456');
  await page.click('button[value=submit]');
  assert.equal(await shopSays(page), 'CHARGED');
});

test('an expired link says so and offers nothing to pay', async () => {
  const page = await stack.newPage();
  const r = await fetch(`${stack.kassaUrl}/orders`, {
    method: 'POST',
    headers: { Authorization: 'Basic ' + Buffer.from(`${stack.creds.api_key}:`).toString('base64'), 'content-type': 'application/x-www-form-urlencoded' },
    body: 'order_id=exp' + Date.now() + '&amount=10&metadata.expiry_in_mins=1',
  });
  const order = await r.json();
  await page.goto(order.payment_links.web);
  await page.waitForSelector('.kassa-summary');
  assert.match(await page.textContent('[data-testid=expiry]'), /^This link expires in (1:00|0:5\d)\.$/);
  await noViolations(page, 'fresh link with a countdown');
  // Let the page's clock run out without waiting: move the browser's time forward.
  await page.evaluate(() => { Date.now = ((n) => () => n() + 120000)(Date.now); });
  await page.waitForFunction(() => document.querySelector('.kassa-notice')?.textContent.includes('expired'), null, { timeout: 5000 });
  assert.equal(await page.$('.kassa-pay'), null);
  await noViolations(page, 'expired');
});

test('the widget files go out precompressed (brotli, gzip) to browsers that accept it, and as they are to others', async () => {
  // node's http, not fetch: fetch would undo the encoding before we can look at it.
  const get = (p, encoding) => new Promise((resolve, reject) => {
    http.get(`${stack.kassaUrl}${p}`, { headers: encoding ? { 'accept-encoding': encoding } : {} }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
  for (const [file, type] of [['kassa_widget_bg.wasm', 'application/wasm'], ['kassa_widget.js', 'text/javascript'], ['kassa.css', 'text/css']]) {
    const raw = readFileSync(path.join(ROOT, 'pkg', file));
    const br = await get(`/assets/${file}`, 'br, gzip');
    assert.equal(br.status, 200);
    assert.equal(br.headers['content-encoding'], 'br', file);
    assert.ok(br.headers['content-type'].startsWith(type), `${file}: ${br.headers['content-type']}`);
    assert.ok(br.body.length < raw.length / 2, `${file}: ${br.body.length} of ${raw.length} bytes`);
    assert.ok(brotliDecompressSync(br.body).equals(raw), `${file}: brotli body is the file`);
    const gz = await get(`/assets/${file}`, 'gzip');
    assert.equal(gz.headers['content-encoding'], 'gzip', file);
    assert.ok(gunzipSync(gz.body).equals(raw), `${file}: gzip body is the file`);
    const plain = await get(`/assets/${file}`, null);
    assert.equal(plain.headers['content-encoding'], undefined, file);
    assert.ok(plain.body.equals(raw), `${file}: identity body is the file`);
  }
});
