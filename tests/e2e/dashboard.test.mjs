// The merchant dashboard (issue 16) in a real browser, found by labels and
// roles: sign in, find an order by its id, refund part of it and see the
// refund in GET /orders/:order_id, redeliver a webhook, sign out. A viewer
// sees no write controls. axe-core on every state.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startStack, SCREENSHOTS } from './harness.mjs';

const KASSA = process.env.KASSA_BIN ?? path.join(process.env.KASSA_ROOT ?? path.resolve(import.meta.dirname, '../..'), 'target/debug/kassa');
const PASSWORD = 'a long dashboard password';

let stack;
before(async () => { stack = await startStack(); });
after(async () => { await stack?.stop(); });

async function noViolations(page, state) {
  assert.deepEqual(await stack.axe(page), [], `axe-core violations (${state})`);
}

function addUser(email, role) {
  execFileSync(KASSA, ['user', 'add', 'e2e', '--email', email, '--role', role, '--database-url', `sqlite://${stack.dir}/kassa.db`],
    { env: { ...process.env, KASSA_USER_PASSWORD: PASSWORD } });
}

/** A CHARGED order of the e2e merchant, paid by card through the sandbox bank page: where the shopper was sent back to. */
async function charged(orderId, amount, extra = {}) {
  const o = await stack.createOrder(stack.creds, { order_id: orderId, amount, customer_id: 'cust-dash', 'options.get_client_auth_token': 'true', ...extra });
  const txn = await (await fetch(`${stack.kassaUrl}/txns`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${o.juspay.client_auth_token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ order_id: o.id, payment_method_type: 'CARD', card_number: '4111111111111111', card_exp_month: '12',
      card_exp_year: '2039', card_security_code: '123', name_on_card: 'Asha Rao' }),
  })).json();
  const bank = await fetch(txn.payment.authentication.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'otp=123456&action=submit', redirect: 'manual' });
  // Kassa's own hops until the shopper leaves it.
  let to = new URL(bank.headers.get('location'), stack.kassaUrl).href;
  while (to.startsWith(`${stack.kassaUrl}/merchant/return/`)) {
    to = new URL((await fetch(to, { redirect: 'manual' })).headers.get('location'), stack.kassaUrl).href;
  }
  for (let i = 0; i < 100; i++) {
    const { body } = await stack.orderStatus(orderId);
    if (body.status === 'CHARGED') return to;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${orderId} never charged`);
}

async function expectBackground(locator, colour) {
  for (let i = 0; i < 100; i++) {
    if (await locator.count() && await locator.first().evaluate((b) => getComputedStyle(b).backgroundColor) === colour) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`never ${colour}`);
}

async function signIn(page, email) {
  await page.goto(`${stack.kassaUrl}/dashboard`);
  await page.waitForURL(/\/dashboard\/sign-in$/);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Orders' }).waitFor();
}

test('an admin signs in, finds an order, refunds part of it and redelivers its webhook', async () => {
  addUser('owner@e2e.example', 'admin');
  await charged('dash-1', '100.00');
  await charged('dash-2', '42.00');
  const page = await stack.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${stack.kassaUrl}/dashboard`);
  await page.waitForURL(/\/dashboard\/sign-in$/);
  await page.getByLabel('Email').fill('owner@e2e.example');
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  assert.equal(await page.getByRole('alert').textContent(), 'wrong email or password');
  await noViolations(page, 'sign-in refused');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Orders' }).waitFor();
  await page.getByRole('link', { name: 'dash-2' }).waitFor();
  await noViolations(page, 'orders list');
  await page.screenshot({ path: path.join(SCREENSHOTS, 'dashboard-orders.png') });

  await page.getByLabel('Search orders').fill('dash-1');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL(/q=dash-1/);
  await page.getByRole('link', { name: 'dash-2' }).waitFor({ state: 'detached' });
  await page.getByRole('link', { name: 'dash-1' }).click();
  await page.getByRole('heading', { name: 'Order dash-1' }).waitFor();
  const amount = page.getByLabel('Refund amount');
  assert.equal(await amount.inputValue(), '100.00', 'prefilled with what is refundable');
  await noViolations(page, 'order page');
  await page.screenshot({ path: path.join(SCREENSHOTS, 'dashboard-order.png'), fullPage: true });

  await amount.fill('25.00');
  await page.getByRole('button', { name: 'Refund', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'Refund recorded.' }).waitFor();
  const { body } = await stack.orderStatus('dash-1');
  assert.equal(body.amount_refunded, 25);
  assert.equal(body.refunds.length, 1);
  assert.equal(await page.getByLabel('Refund amount').inputValue(), '75.00', 'what is left');
  await noViolations(page, 'refunded');

  await page.getByRole('button', { name: 'Redeliver ORDER_SUCCEEDED' }).first().click();
  await page.getByRole('status').filter({ hasText: 'Queued for delivery.' }).waitFor();

  // Back and forward work; sign-out ends the session.
  await page.goBack();
  await page.getByRole('heading', { name: 'Orders' }).waitFor();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in to your dashboard' }).waitFor();
  const me = await page.evaluate(async () => (await fetch('/dashboard/api/me')).status);
  assert.equal(me, 401);
  assert.deepEqual(page.problems.filter((p) => !p.includes('401')), []);
});

test('a viewer reads the order but is offered no refund or redelivery', async () => {
  addUser('analyst@e2e.example', 'viewer');
  await charged('dash-v', '60.00');
  const page = await stack.newPage({ viewport: { width: 1280, height: 900 } });
  await signIn(page, 'analyst@e2e.example');
  await page.getByRole('link', { name: 'dash-v' }).click();
  await page.getByRole('heading', { name: 'Order dash-v' }).waitFor();
  await page.getByRole('heading', { name: 'Webhook deliveries' }).waitFor();
  assert.equal(await page.getByLabel('Refund amount').count(), 0);
  assert.equal(await page.getByRole('button', { name: /Redeliver/ }).count(), 0);
  await noViolations(page, 'viewer order page');
});

test('an admin switches off signed responses, changes the theme and rotates the response key', async () => {
  addUser('settings@e2e.example', 'admin');
  const page = await stack.newPage({ viewport: { width: 1280, height: 1000 } });
  await signIn(page, 'settings@e2e.example');
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('heading', { name: 'Settings' }).waitFor();
  const signed = page.getByLabel('Use signed response');
  assert.equal(await signed.isChecked(), true);
  await noViolations(page, 'settings');
  await signed.uncheck();
  await page.getByLabel('Accent colour').fill('#0a5c36');
  await page.getByLabel('Corner radius (pixels, 0 to 24)').fill('2');
  // The live preview is the payment page itself, wearing the theme being edited.
  const preview = page.frameLocator('iframe[title="Payment page preview"]');
  await expectBackground(preview.locator('.kassa-pay'), 'rgb(10, 92, 54)');
  await page.getByLabel('Logo').setInputFiles({ name: 'logo.svg', mimeType: 'image/svg+xml',
    buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><rect width="120" height="40" fill="#0a5c36"/></svg>') });
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByRole('status').filter({ hasText: 'Settings saved.' }).waitFor();
  await page.screenshot({ path: path.join(SCREENSHOTS, 'dashboard-settings.png'), fullPage: true });

  // The next return URL carries no signature.
  const back = await charged('dash-unsigned', '10.00', { return_url: `${stack.shopUrl}/thanks` });
  const url = new URL(back);
  assert.equal(url.searchParams.get('order_id'), 'dash-unsigned');
  assert.equal(url.searchParams.get('status'), 'CHARGED');
  assert.equal(url.searchParams.get('signature'), null, back);

  // The payment page wears the new accent and logo.
  const o = await stack.createOrder(stack.creds, { order_id: 'dash-themed', amount: '5.00' });
  const pay = await stack.newPage({ viewport: { width: 1280, height: 900 } });
  await pay.goto(o.payment_links.web);
  await pay.waitForSelector('.kassa-pay:not([disabled])');
  assert.equal(await pay.locator('.kassa-pay').evaluate((b) => getComputedStyle(b).backgroundColor), 'rgb(10, 92, 54)');
  assert.equal(await pay.locator('.kassa-has-logo').count(), 1, 'the logo is on the page');

  // Signed again; a rotation shows the new key once.
  await signed.check();
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByRole('status').filter({ hasText: 'Settings saved.' }).waitFor();
  // A rotation with an hour's overlap: the next return URL still verifies with the current key only.
  const verifies = (key, url) => {
    try {
      execFileSync(KASSA, ['verify', 'return-url', new URL(url).search.slice(1)], { env: { ...process.env, KASSA_RESPONSE_KEY: key }, stdio: 'ignore' });
      return true;
    } catch { return false; }
  };
  await page.getByLabel('Keep signing with the current key for (minutes)').fill('60');
  await page.getByRole('button', { name: 'Rotate response key' }).click();
  const pending = await page.getByTestId('new-response-key').textContent();
  assert.match(pending, /^krk_/);
  await noViolations(page, 'new key shown');
  const during = await charged('dash-signed-1', '10.00', { return_url: `${stack.shopUrl}/thanks` });
  assert.equal(verifies(stack.creds.response_key, during), true, during);
  assert.equal(verifies(pending, during), false, 'the new key signs only after the overlap');
  // With no overlap, the new key signs the very next one, and the old no longer does.
  await page.getByLabel('Keep signing with the current key for (minutes)').fill('0');
  await page.getByRole('button', { name: 'Rotate response key' }).click();
  await page.getByTestId('new-response-key').filter({ hasNotText: pending }).waitFor();
  const key = await page.getByTestId('new-response-key').textContent();
  const after = await charged('dash-signed-2', '10.00', { return_url: `${stack.shopUrl}/thanks` });
  assert.equal(verifies(key, after), true, after);
  assert.equal(verifies(stack.creds.response_key, after), false);
  await page.reload();
  await page.getByRole('heading', { name: 'Settings' }).waitFor();
  assert.equal(await page.getByTestId('new-response-key').count(), 0, 'shown once');
});

test('charts and the audit log', async () => {
  addUser('charts@e2e.example', 'admin');
  await charged('dash-c1', '30.00');
  const page = await stack.newPage({ viewport: { width: 1280, height: 1000 } });
  await signIn(page, 'charts@e2e.example');
  await page.getByRole('link', { name: 'Charts' }).click();
  await page.getByRole('heading', { name: 'Per day' }).waitFor();
  assert.equal(await page.getByRole('img', { name: /Volume per day, last 7 days/ }).count(), 1);
  await page.getByRole('link', { name: 'Last 30 days' }).click();
  await page.getByRole('img', { name: /last 30 days/ }).first().waitFor();
  await noViolations(page, 'charts');
  await page.screenshot({ path: path.join(SCREENSHOTS, 'dashboard-charts.png'), fullPage: true });
  await page.getByRole('link', { name: 'Audit log' }).click();
  await page.getByRole('cell', { name: 'dashboard.sign_in' }).first().waitFor();
  await noViolations(page, 'audit log');
  // Batch refunds: each line's result.
  await page.getByRole('link', { name: 'Batch refunds' }).click();
  await page.getByLabel('Refunds (CSV)').fill('order_id,amount\ndash-c1,5.00\nno-such-order,1.00');
  await page.getByRole('button', { name: 'Refund these' }).click();
  await page.getByRole('status').filter({ hasText: '1 refunded, 1 failed' }).waitFor();
  await noViolations(page, 'batch refunds');
  assert.equal((await stack.orderStatus('dash-c1')).body.amount_refunded, 5);
});

test('an admin creates an API key, uses it, revokes it, and it gets 401', async () => {
  addUser('keys@e2e.example', 'admin');
  const page = await stack.newPage({ viewport: { width: 1280, height: 1000 } });
  await signIn(page, 'keys@e2e.example');
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByLabel('Key name').fill('Nightly reconciliation');
  await page.getByRole('button', { name: 'Create API key' }).click();
  const key = await page.getByTestId('new-api-key').textContent();
  assert.match(key, /^ksk_/);
  const call = async () => (await fetch(`${stack.kassaUrl}/orders/no-such-order`, { headers: { Authorization: 'Basic ' + Buffer.from(`${key}:`).toString('base64') } })).status;
  assert.equal(await call(), 404, 'the new key works: the order is not found, not the key refused');
  await page.reload();
  await page.getByRole('cell', { name: 'Nightly reconciliation', exact: true }).waitFor();
  await noViolations(page, 'api keys');
  await page.getByRole('button', { name: 'Revoke Nightly reconciliation' }).click();
  await page.getByRole('cell', { name: 'revoked', exact: true }).waitFor();
  assert.equal(await call(), 401, 'the revoked key');
});

test('a failed webhook is redelivered from the order page once its receiver is back; a test event is sent', async () => {
  addUser('hooks@e2e.example', 'admin');
  const { createServer } = await import('node:http');
  const port = await new Promise((resolve) => { const srv = createServer(); srv.listen(0, '127.0.0.1', () => { const p = srv.address().port; srv.close(() => resolve(p)); }); });
  const page = await stack.newPage({ viewport: { width: 1280, height: 1000 } });
  await signIn(page, 'hooks@e2e.example');
  await page.getByRole('link', { name: 'Settings' }).click();
  const hookUrl = page.getByLabel('Webhook URL');
  const shopHook = await hookUrl.inputValue();
  await hookUrl.fill(`http://127.0.0.1:${port}/hook`);
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByRole('status').filter({ hasText: 'Settings saved.' }).waitFor();
  await charged('dash-hook', '15.00');
  await page.goto(`${stack.kassaUrl}/dashboard/orders/dash-hook`);
  const row = page.getByRole('row').filter({ hasText: 'ORDER_SUCCEEDED' });
  for (let i = 0; i < 100 && !(await row.textContent()).includes('cannot reach the receiver'); i++) {
    await new Promise((r) => setTimeout(r, 150));
    await page.reload();
  }
  assert.match(await row.textContent(), /cannot reach the receiver/);
  // The receiver comes back; Redeliver reaches it.
  const got = [];
  const srv = createServer((req, res) => { let b = ''; req.on('data', (c) => { b += c; }); req.on('end', () => { got.push(b); res.end('ok'); }); });
  await new Promise((r) => srv.listen(port, '127.0.0.1', r));
  try {
    await row.getByRole('button', { name: 'Redeliver ORDER_SUCCEEDED' }).click();
    await page.getByRole('status').filter({ hasText: 'Queued for delivery.' }).waitFor();
    for (let i = 0; i < 100 && !got.some((b) => b.includes('ORDER_SUCCEEDED')); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(got.some((b) => b.includes('"ORDER_SUCCEEDED"')), 'the receiver got the event');
    await page.reload();
    await page.getByRole('row').filter({ hasText: 'ORDER_SUCCEEDED' }).filter({ hasText: 'delivered' }).first().waitFor();
    await noViolations(page, 'redelivered');
    // A test event to it from the settings.
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('button', { name: 'Send test event' }).click();
    await page.getByRole('status').filter({ hasText: 'Test event queued' }).waitFor();
    for (let i = 0; i < 100 && !got.some((b) => b.includes('"TEST"')); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(got.some((b) => b.includes('"event_name":"TEST"')), 'the test event arrived');
  } finally {
    srv.close();
    await page.getByLabel('Webhook URL').fill(shopHook);
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByRole('status').filter({ hasText: 'Settings saved.' }).waitFor();
  }
});

test("a customer's mandate is paused and revoked from the dashboard", async () => {
  addUser('mandates@e2e.example', 'admin');
  await charged('dash-mdt', '1.00', { customer_id: 'cust-mdt-dash', 'options.create_mandate': 'REQUIRED', 'mandate.max_amount': '500.00' });
  const page = await stack.newPage({ viewport: { width: 1280, height: 1000 } });
  await signIn(page, 'mandates@e2e.example');
  await page.getByRole('link', { name: 'Customers' }).click();
  await page.getByLabel('Customer id').fill('cust-mdt-dash');
  await page.getByRole('button', { name: 'Find' }).click();
  await page.getByRole('cell', { name: 'ACTIVE', exact: true }).waitFor();
  assert.equal(await page.getByRole('cell', { name: 'dash-mdt', exact: true }).count(), 1, 'the order that registered it');
  await noViolations(page, 'customer instruments');
  await page.getByRole('button', { name: 'Pause' }).click();
  await page.getByRole('cell', { name: 'PAUSED', exact: true }).waitFor();
  await page.getByRole('button', { name: 'Revoke' }).click();
  await page.getByRole('cell', { name: 'REVOKED', exact: true }).waitFor();
  const { body } = await stack.orderStatus('dash-mdt');
  assert.equal(body.mandate.mandate_status, 'REVOKED');
});

// Last: a linked account changes where this merchant's next orders go.
test('an admin links a gateway account from the settings', async () => {
  addUser('gateways@e2e.example', 'admin');
  const page = await stack.newPage({ viewport: { width: 1280, height: 1000 } });
  await signIn(page, 'gateways@e2e.example');
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('heading', { name: 'Gateway accounts' }).waitFor();
  // A gateway account linked from the settings (on this server's sandbox of Paytm).
  await page.getByLabel('Gateway', { exact: true }).selectOption('paytm');
  await page.getByLabel("Open an account on this server's sandbox of the gateway (no credentials needed)").check();
  await page.getByLabel('Reference id (metadata.JUSPAY:gateway_reference_id)').fill('paytm-e2e');
  await page.getByRole('button', { name: 'Link an account' }).click();
  await page.getByRole('status').filter({ hasText: 'Account linked' }).waitFor();
  await page.getByRole('cell', { name: 'paytm-e2e', exact: true }).waitFor();
  await noViolations(page, 'gateway account linked');
});
