// Gateway routing in a real browser (SPEC §7): one order routed to Razorpay
// and one to Paytm, each paid from Kassa's payment page through that
// gateway's authentication (the sandboxes `kassa serve` serves) to the
// merchant's signed return URL; then refunded, and the gateway's own API
// shows the order paid and the refund.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startStack, SCREENSHOTS } from './harness.mjs';

const KASSA = process.env.KASSA_BIN ?? path.join(process.env.KASSA_ROOT ?? path.resolve(import.meta.dirname, '../..'), 'target/debug/kassa');

let stack;
let merchant;
const accounts = {};
before(async () => {
  stack = await startStack();
  const db = `sqlite://${stack.dir}/kassa.db`;
  merchant = JSON.parse(execFileSync(KASSA, ['merchant', 'create', 'routed', '--name', 'Routed Shop', '--database-url', db], { encoding: 'utf8' }));
  for (const gateway of ['razorpay', 'paytm']) {
    accounts[gateway] = JSON.parse(execFileSync(KASSA, ['merchant', 'add-gateway', 'routed', '--gateway', gateway, '--sandbox',
      '--public-url', stack.kassaUrl, '--database-url', db], { encoding: 'utf8' }));
  }
  // The merchant's return page: a plain page on the host origin.
  await stack.serveHost(stack.hostUrl, '<!doctype html><title>Shop</title><h1>Back at the shop</h1>');
});
after(async () => { await stack?.stop(); });

/** Verifies a return URL's query with the merchant's response key, through `kassa verify return-url`. */
function verifyReturn(query) {
  const keyFile = path.join(stack.dir, 'routed-response-key');
  writeFileSync(keyFile, merchant.response_key);
  execFileSync(KASSA, ['verify', 'return-url', '--key-file', keyFile, query]);
}

async function api(method, pathname, form) {
  const r = await fetch(`${stack.kassaUrl}${pathname}`, {
    method,
    headers: { Authorization: 'Basic ' + Buffer.from(`${merchant.api_key}:`).toString('base64'), 'content-type': 'application/x-www-form-urlencoded' },
    body: form ? new URLSearchParams(form).toString() : undefined,
  });
  return { http: r.status, body: await r.json() };
}

async function payThrough(gateway, gatewayId, orderId) {
  const created = await stack.createOrder(merchant, {
    order_id: orderId, amount: '249.00', customer_id: 'c1', customer_email: 'asha@example.in', customer_phone: '9876543210',
    description: 'Masala chai, 1 kg', return_url: `${stack.hostUrl}/return`, gateway_id: String(gatewayId),
  });
  assert.equal(created.status, 'CREATED', JSON.stringify(created));
  const page = await stack.newPage({ viewport: { width: 1280, height: 860 } });
  await page.goto(created.payment_links.web);
  await page.waitForSelector('.kassa-pay:not([disabled])');
  await page.fill('#kassa-card-number', '4111 1111 1111 1111');
  await page.fill('#kassa-card-expiry', '12/30');
  await page.fill('#kassa-card-cvv', '123');
  await page.fill('#kassa-card-name', 'Asha Rao');
  await page.click('.kassa-pay');
  // The gateway's own authentication page (its sandbox), with Kassa's test data.
  await page.waitForSelector('#otp');
  assert.match(page.url(), new RegExp(`/sandbox/${gateway}/`));
  assert.match(await page.textContent('.badge'), new RegExp(`${gateway === 'razorpay' ? 'Razorpay' : 'Paytm'} sandbox`));
  assert.deepEqual(await stack.axe(page), []);
  await page.screenshot({ path: path.join(SCREENSHOTS, `gateway-${gateway}-authentication.png`) });
  await page.fill('#otp', '123456');
  await page.click('button[value=submit]');
  // The gateway posts its signed answer to Kassa, which confirms it with the gateway's API
  // and sends the shopper to the merchant's return URL, signed.
  await page.waitForURL(new RegExp(`^${stack.hostUrl}/return\\?`));
  const url = new URL(page.url());
  assert.equal(url.searchParams.get('status'), 'CHARGED');
  assert.equal(url.searchParams.get('order_id'), orderId);
  verifyReturn(url.search.slice(1));
  assert.deepEqual(page.problems, []);
  const { body } = await api('GET', `/orders/${orderId}`);
  assert.equal(body.status, 'CHARGED');
  assert.equal(body.gateway_id, gatewayId);
  await page.context().close();
  return body;
}

test('an order routed to Razorpay is paid through Razorpay\'s authentication and refunded through its API', async () => {
  const paid = await payThrough('razorpay', 23, 'e2e_rzp_1');
  const refunded = await api('POST', '/orders/e2e_rzp_1/refunds', { unique_request_id: 'rf-1', amount: '49.00' });
  assert.equal(refunded.http, 200, JSON.stringify(refunded.body));
  assert.equal(refunded.body.refunds[0].status, 'SUCCESS');
  // Razorpay's own API, with the account's key.
  const { key_id, key_secret, base_url } = accounts.razorpay;
  const auth = { Authorization: 'Basic ' + Buffer.from(`${key_id}:${key_secret}`).toString('base64') };
  const orders = await (await fetch(`${base_url}/v1/orders?receipt=e2e_rzp_1`, { headers: auth })).json();
  assert.equal(orders.count, 1);
  assert.equal(orders.items[0].status, 'paid');
  assert.equal(orders.items[0].amount_paid, 24900);
  const paymentId = paid.payment_gateway_response.epg_txn_id;
  const payment = await (await fetch(`${base_url}/v1/payments/${paymentId}`, { headers: auth })).json();
  assert.equal(payment.status, 'captured');
  assert.equal(payment.amount_refunded, 4900);
  const refunds = await (await fetch(`${base_url}/v1/payments/${paymentId}/refunds`, { headers: auth })).json();
  assert.equal(refunds.count, 1);
  assert.equal(refunds.items[0].amount, 4900);
});

test('an order routed to Paytm is paid through Paytm\'s authentication and refunded through its API', async () => {
  await payThrough('paytm', 18, 'e2e_ptm_1');
  const refunded = await api('POST', '/orders/e2e_ptm_1/refunds', { unique_request_id: 'rf-1', amount: '249.00' });
  assert.equal(refunded.http, 200, JSON.stringify(refunded.body));
  // Paytm accepts a refund as PENDING; Kassa asks its refund status until it is made.
  assert.equal(refunded.body.refunds[0].status, 'PENDING');
  let refund;
  for (let i = 0; i < 100; i++) {
    refund = (await api('GET', '/orders/e2e_ptm_1')).body.refunds[0];
    if (refund.status !== 'PENDING') break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(refund.status, 'SUCCESS');
  // Paytm's transaction status API (signed with the merchant key through `kassa sign paytm`).
  const { mid, merchant_key, base_url } = accounts.paytm;
  const attempt = (await api('GET', '/orders/e2e_ptm_1')).body.txn_uuid;
  const body = JSON.stringify({ mid, orderId: attempt });
  const signature = execFileSync(KASSA, ['sign', 'paytm', body], { encoding: 'utf8', env: { ...process.env, PAYTM_MERCHANT_KEY: merchant_key } }).trim();
  const status = await (await fetch(`${base_url}/v3/order/status`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"head":{"signature":"${signature}"},"body":${body}}`,
  })).json();
  assert.equal(status.body.resultInfo.resultStatus, 'TXN_SUCCESS');
  assert.equal(status.body.txnAmount, '249.00');
  assert.equal(status.body.refundAmt, '249.00');
});
