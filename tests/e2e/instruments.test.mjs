// Stored instruments (issue 15) in a real browser: a card saved while paying
// and paid again with the CVV only; a card mandate registered on the payment
// page, debited three times by the merchant's server, paused, resumed and
// revoked by the shopper on the payment management page, after which a
// debit is refused; a UPI mandate opted into on the page. axe-core on
// every new state.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startStack, SCREENSHOTS } from './harness.mjs';

let stack;
before(async () => { stack = await startStack(); });
after(async () => { await stack?.stop(); });

async function noViolations(page, state) {
  assert.deepEqual(await stack.axe(page), [], `axe-core violations (${state})`);
}

/** A form POST with the e2e merchant's API key: [HTTP status, JSON]. */
async function api(pathname, form) {
  const r = await fetch(`${stack.kassaUrl}${pathname}`, {
    method: 'POST',
    headers: { Authorization: 'Basic ' + Buffer.from(`${stack.creds.api_key}:`).toString('base64'), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  return [r.status, await r.json()];
}

async function order(form) {
  const o = await stack.createOrder(stack.creds, form);
  assert.ok(o.payment_links, JSON.stringify(o));
  return o;
}

/** Answers the sandbox bank's OTP page and waits for Kassa's result page. */
async function otpAndResult(page) {
  await page.locator('#otp').fill('123456');
  await page.locator('button[value=submit]').click();
  await page.waitForURL(/\/merchant\/result\/ord_/, { timeout: 20000 });
}

async function waitStatus(orderId, status) {
  for (let i = 0; i < 100; i++) {
    const { body } = await stack.orderStatus(orderId);
    if (body.status === status) return body;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${orderId} never became ${status}`);
}

test('a card saved while paying is offered first next time and paid with the CVV only', async () => {
  const page = await stack.newPage({ viewport: { width: 1280, height: 900 } });
  const first = await order({ order_id: 'save-1', amount: '120.00', customer_id: 'cust-save' });
  await page.goto(first.payment_links.web);
  await page.waitForSelector('.kassa-pay:not([disabled])');
  await page.locator('#kassa-card-number').fill('4111 1111 1111 1111');
  await page.locator('#kassa-card-expiry').fill('12/30');
  await page.locator('#kassa-card-cvv').fill('123');
  await page.locator('#kassa-card-name').fill('Asha Rao');
  await page.getByLabel('Save this card for faster payments').check();
  await noViolations(page, 'new card with the save opt-in');
  await page.locator('.kassa-pay').click();
  await otpAndResult(page);
  await waitStatus('save-1', 'CHARGED');

  const second = await order({ order_id: 'save-2', amount: '80.00', customer_id: 'cust-save' });
  await page.goto(second.payment_links.web);
  await page.waitForSelector('.kassa-pay:not([disabled])');
  const saved = page.getByLabel('Visa ending in 1111, expires 12/30');
  assert.equal(await saved.isChecked(), true, 'the saved card is chosen');
  assert.equal(await page.locator('#kassa-card-number').isVisible(), false, 'no card number is asked for');
  await noViolations(page, 'saved card chosen');
  await page.screenshot({ path: path.join(SCREENSHOTS, 'payment-page-saved-card.png') });
  await page.locator('#kassa-card-cvv').fill('321');
  await page.locator('.kassa-pay').click();
  await otpAndResult(page);
  const paid = await waitStatus('save-2', 'CHARGED');
  assert.equal(paid.card.last_four_digits, '1111');
  assert.deepEqual(page.problems, []);
});

test('a card mandate: registered on the page, debited three times, paused, resumed, revoked by the shopper, then refused', async () => {
  const page = await stack.newPage({ viewport: { width: 1280, height: 900 } });
  const reg = await order({
    order_id: 'mdt-reg', amount: '1.00', customer_id: 'cust-mdt',
    'options.create_mandate': 'REQUIRED', 'mandate.max_amount': '2000.00', 'mandate.frequency': 'ASPRESENTED',
  });
  assert.equal(reg['options.createMandate'], 'REQUIRED');
  await page.goto(reg.payment_links.web);
  await page.waitForSelector('.kassa-pay:not([disabled])');
  // Only methods that can register it: no end date, so not UPI (a UPI mandate needs one).
  assert.deepEqual(await page.$$eval('[role=tab]', (t) => t.map((x) => x.textContent.trim())), ['Card'], 'only mandate-capable methods');
  const terms = await page.textContent('#kassa-mandate-terms');
  assert.match(terms, /E2E Test Shop to charge up to ₹2,000\.00 whenever due/);
  await noViolations(page, 'mandate terms');
  await page.screenshot({ path: path.join(SCREENSHOTS, 'payment-page-mandate.png') });
  await page.locator('#kassa-card-number').fill('4111 1111 1111 1111');
  await page.locator('#kassa-card-expiry').fill('12/30');
  await page.locator('#kassa-card-cvv').fill('123');
  await page.locator('#kassa-card-name').fill('Asha Rao');
  await page.locator('.kassa-pay').click();
  await otpAndResult(page);
  const st = await waitStatus('mdt-reg', 'CHARGED');
  assert.equal(st.mandate.mandate_status, 'ACTIVE');
  const id = st.mandate.mandate_id;

  for (const [n, amount] of [[1, '499.00'], [2, '1500.00'], [3, '10.00']]) {
    const [code, body] = await api('/txns', { mandate_id: id, 'order.order_id': `mdt-debit-${n}`, 'order.amount': amount, 'order.customer_id': 'cust-mdt', format: 'json' });
    assert.equal(code, 200, JSON.stringify(body));
    const debit = await waitStatus(`mdt-debit-${n}`, 'CHARGED');
    assert.equal(debit.mandate.mandate_id, id);
  }
  assert.equal((await api(`/mandates/${id}`, { command: 'pause' }))[1].status, 'PAUSED');
  const [paused, refusal] = await api('/txns', { mandate_id: id, 'order.order_id': 'mdt-debit-p', 'order.amount': '5.00', 'order.customer_id': 'cust-mdt' });
  assert.deepEqual([paused, refusal.error_code], [400, 'JP_852']);
  assert.equal((await api(`/mandates/${id}`, { command: 'resume' }))[1].status, 'ACTIVE');

  // The shopper revokes it on the payment management page.
  const [code, session] = await api('/session', { action: 'paymentManagement', customer_id: 'cust-mdt' });
  assert.equal(code, 200, JSON.stringify(session));
  await page.goto(session.payment_links.web);
  await page.waitForSelector('h1');
  assert.equal(await page.textContent('h1'), 'Saved payment methods');
  await noViolations(page, 'payment management');
  await page.screenshot({ path: path.join(SCREENSHOTS, 'payment-management.png') });
  await page.getByRole('button', { name: 'Cancel automatic payment: Visa •••• 1111' }).click();
  await page.waitForSelector('text=The automatic payment was cancelled.');
  assert.match(await page.textContent('.kassa-list'), /Cancelled/);
  await noViolations(page, 'payment management after revoking');
  const [after, refused] = await api('/txns', { mandate_id: id, 'order.order_id': 'mdt-debit-4', 'order.amount': '5.00', 'order.customer_id': 'cust-mdt' });
  assert.deepEqual([after, refused.error_code], [400, 'JP_852']);
  assert.deepEqual(page.problems, []);
});

test('a UPI mandate the shopper opts into on the page, in Hindi', async () => {
  const page = await stack.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const end = Math.floor(Date.now() / 1000) + 90 * 86400;
  const reg = await order({
    order_id: 'upi-mdt', amount: '1.00', customer_id: 'cust-upi', 'options.create_mandate': 'OPTIONAL',
    'mandate.max_amount': '500.00', 'mandate.frequency': 'MONTHLY', 'mandate.rule_value': '5', 'mandate.end_date': String(end),
  });
  await page.goto(`${reg.payment_links.mobile}&language=hindi&payment_options=upi`);
  await page.waitForSelector('.kassa-pay:not([disabled])');
  assert.match(await page.textContent('#kassa-mandate-terms'), /हर महीने/);
  await page.locator('#kassa-mandate-opt-in').check();
  await noViolations(page, 'upi mandate opt-in (hindi)');
  await page.locator('#kassa-upi-id').fill('success@kassa');
  await page.locator('.kassa-pay').click();
  await page.waitForURL(/\/merchant\/result\/ord_/, { timeout: 20000 });
  const st = await waitStatus('upi-mdt', 'CHARGED');
  assert.deepEqual([st.mandate.mandate_type, st.mandate.mandate_status], ['EMANDATE', 'ACTIVE']);
  // A debit needs a pre-debit notification 24 hours earlier.
  const [code, body] = await api('/txns', { mandate_id: st.mandate.mandate_id, 'order.order_id': 'upi-debit', 'order.amount': '100.00', 'order.customer_id': 'cust-upi' });
  assert.deepEqual([code, body.error_code], [400, 'JP_851']);
  assert.deepEqual(page.problems, []);
});
