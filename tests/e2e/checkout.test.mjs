// The thin path of the walking skeleton, in a real browser:
// shop page → POST /orders (shop backend) → payment_links.web → card form →
// sandbox bank OTP page → redirect to return_url with a signed result →
// the shop verifies the signature and GET /orders/:order_id → result shown.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startStack, SCREENSHOTS } from './harness.mjs';

let stack;
before(async () => { stack = await startStack(); });
after(async () => { await stack?.stop(); });

/** Opens the shop, buys, and waits for the payment page to be ready. */
async function toPaymentPage(page, query = '') {
  await page.goto(`${stack.shopUrl}/`);
  await page.click('#buy');
  await page.waitForURL(/\/merchant\/pay\/ord_[0-9a-f]{32}$/);
  if (query) await page.goto(page.url() + query);
  await page.waitForSelector('.kassa-pay:not([disabled])');
  return page.url().match(/ord_[0-9a-f]{32}/)[0];
}

async function payByCard(page, number, otp) {
  await page.fill('#kassa-card-number', number);
  await page.fill('#kassa-card-expiry', '12/30');
  await page.fill('#kassa-card-cvv', '123');
  await page.fill('#kassa-card-name', 'Asha Rao');
  await page.click('.kassa-pay');
  await page.waitForURL(/\/sandbox\/bank\/txn_[0-9a-f]{32}$/);
  await page.fill('#otp', otp);
  await page.click('button[value=submit]');
  await page.waitForURL(new RegExp(`^${stack.shopUrl}/return\\?`));
}

test('card 4111 1111 1111 1111 with OTP 123456: CHARGED, signed return verified by the shop', async () => {
  const page = await stack.newPage({ viewport: { width: 1280, height: 860 } });
  await toPaymentPage(page);
  assert.equal(await page.textContent('[data-testid=amount]'), '₹499.00');
  assert.equal(await page.textContent('.kassa-merchant'), 'E2E Test Shop');
  assert.deepEqual(await page.$$eval('[role=tab]', (t) => t.map((x) => x.textContent.trim())), ['Card', 'UPI', 'Netbanking', 'Wallet']);
  // Formatting as you type, and brand detection.
  await page.fill('#kassa-card-number', '4111111111111111');
  assert.equal(await page.inputValue('#kassa-card-number'), '4111 1111 1111 1111');
  assert.equal(await page.textContent('.kassa-brand'), 'Visa');
  await page.screenshot({ path: path.join(SCREENSHOTS, 'payment-page-web.png') });

  await payByCard(page, '4111 1111 1111 1111', '123456');
  const url = new URL(page.url());
  // Juspay's redirect carries the signature percent-encoded twice (…%253D on the wire).
  assert.match(url.search, /signature=[^&]*%253D/);
  assert.equal(url.searchParams.get('status'), 'CHARGED');
  assert.equal(url.searchParams.get('status_id'), '21');
  assert.equal(url.searchParams.get('signature_algorithm'), 'HMAC-SHA256');
  assert.equal(await page.textContent('#result'), 'Payment successful');
  assert.equal(await page.textContent('#status'), 'CHARGED');
  assert.match(await page.textContent('#signature'), /signature verified/);

  const orderId = await page.textContent('#order-id');
  const { http, body } = await stack.orderStatus(orderId);
  assert.equal(http, 200);
  assert.equal(body.status, 'CHARGED');
  assert.equal(body.status_id, 21);
  assert.equal(body.amount, 499);
  assert.equal(body.card.last_four_digits, '1111');
  assert.deepEqual(page.problems, []);
});

test('a wrong OTP ends AUTHENTICATION_FAILED and the shop says the payment failed', async () => {
  const page = await stack.newPage();
  await toPaymentPage(page);
  await payByCard(page, '5555 5555 5555 4444', '000000');
  assert.equal(await page.textContent('#result'), 'Payment failed');
  assert.equal(await page.textContent('#status'), 'AUTHENTICATION_FAILED');
  const { body } = await stack.orderStatus(await page.textContent('#order-id'));
  assert.equal(body.status, 'AUTHENTICATION_FAILED');
  assert.equal(body.status_id, 26);
});

test('a tampered return URL is rejected by the shop', async () => {
  const page = await stack.newPage();
  await toPaymentPage(page);
  await payByCard(page, '5555 5555 5555 4444', '000000');
  const forged = page.url().replace('status=AUTHENTICATION_FAILED', 'status=CHARGED');
  await page.goto(forged);
  assert.equal(await page.textContent('h1'), 'Signature check failed');
});

test('card form errors are shown inline and nothing is submitted', async () => {
  const page = await stack.newPage();
  const ord = await toPaymentPage(page);
  await page.fill('#kassa-card-number', '4111 1111 1111 1112');
  await page.fill('#kassa-card-expiry', '01/20');
  await page.click('.kassa-pay');
  assert.equal(await page.textContent('#kassa-card-number-error'), 'Enter a valid card number.');
  assert.equal(await page.textContent('#kassa-card-expiry-error'), 'This card has expired.');
  assert.equal(await page.getAttribute('#kassa-card-number', 'aria-invalid'), 'true');
  assert.match(page.url(), new RegExp(`/merchant/pay/${ord}$`));
});

test('payment_options=nb shows only netbanking, and a bank payment reaches CHARGED', async () => {
  const page = await stack.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await toPaymentPage(page, '?mobile=true&payment_options=nb|bogus');
  assert.deepEqual(await page.$$eval('[role=tab]', (t) => t.map((x) => x.textContent.trim())), ['Netbanking']);
  assert.ok(await page.$('.kassa-mobile'));
  await page.check('input[value=NB_HDFC]');
  await page.screenshot({ path: path.join(SCREENSHOTS, 'payment-page-mobile.png') });
  await page.click('.kassa-pay');
  await page.waitForURL(/\/sandbox\/bank\//);
  await page.click('button[value=approve]');
  await page.waitForURL(new RegExp(`^${stack.shopUrl}/return\\?`));
  assert.equal(await page.textContent('#status'), 'CHARGED');
  // The unknown option was reported as a console warning, not an error.
  assert.deepEqual(page.problems, []);
});

test('pre-authorization: the page says the amount is held; the shop captures one hold and releases another', async () => {
  const page = await stack.newPage({ viewport: { width: 390, height: 844 } });
  const hold = async () => {
    await page.goto(`${stack.shopUrl}/`);
    await page.check('#hold');
    await page.click('#buy');
    await page.waitForURL(/\/merchant\/pay\/ord_[0-9a-f]{32}$/);
    await page.waitForSelector('.kassa-pay:not([disabled])');
    // Only a card can hold the amount, and the page says it is held, not charged, next to the button.
    assert.deepEqual(await page.$$eval('[role=tab]', (t) => t.map((x) => x.textContent.trim())), ['Card']);
    assert.equal(await page.textContent('#kassa-hold-note'),
      '₹499.00 will be held on your card, not charged now. The shop charges it later or releases it.');
    assert.equal(await page.getAttribute('.kassa-pay', 'aria-describedby'), 'kassa-hold-note');
    assert.deepEqual(await stack.axe(page), []);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'payment-page-hold.png') });
    await payByCard(page, '4111 1111 1111 1111', '123456');
    const url = new URL(page.url());
    assert.equal(url.searchParams.get('status'), 'AUTHORIZED');
    assert.equal(url.searchParams.get('status_id'), '25');
    assert.equal(await page.textContent('#result'), 'Amount held');
    assert.equal(await page.textContent('#status'), 'AUTHORIZED');
    return page.textContent('#order-id');
  };

  // The first hold is captured from the shop's side.
  const captured = await hold();
  await page.screenshot({ path: path.join(SCREENSHOTS, 'shop-hold.png') });
  await page.click('#capture');
  await page.waitForSelector('#action-result');
  assert.equal(await page.textContent('#action-result'), 'Capture sent to Kassa.');
  assert.equal(await page.textContent('#status'), 'CHARGED');
  assert.equal(await page.$('#capture'), null, 'nothing left to capture');
  let { body } = await stack.orderStatus(captured);
  assert.equal(body.status, 'CHARGED');
  assert.equal(body.txn_detail.captured_amount, 499);

  // The second is released.
  const released = await hold();
  await page.click('#void');
  await page.waitForSelector('#action-result');
  assert.equal(await page.textContent('#result'), 'Hold released');
  assert.equal(await page.textContent('#status'), 'VOIDED');
  ({ body } = await stack.orderStatus(released));
  assert.equal(body.status, 'VOIDED');
  assert.equal(body.status_id, 31);
  // Its payment link now says the order is closed and offers nothing to pay.
  await page.goto(`${body.payment_links.web}`);
  await page.waitForSelector('.kassa-notice');
  assert.equal(await page.textContent('.kassa-notice'), 'This order is closed. Return to the shop.');
  assert.deepEqual(page.problems, []);
});
