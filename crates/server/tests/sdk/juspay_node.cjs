// Juspay's own server SDK for Node (expresscheckout-nodejs, unchanged)
// against a Kassa server over HTTPS: only `baseUrl` points at Kassa.
// Run by crates/server/tests/tls.rs, which starts `kassa serve --tls-cert`
// with a certificate it generated and passes it in NODE_EXTRA_CA_CERTS.
'use strict';
const assert = require('node:assert/strict');
const { Juspay, JuspayError } = require('expresscheckout-nodejs');

Juspay.customLogger = Juspay.silentLogger;

const { KASSA_BASE: baseUrl, KASSA_API_KEY: apiKey, KASSA_MERCHANT_ID: merchantId, KASSA_CLIENT_ID: clientId } = process.env;
const suffix = Date.now().toString(36);

async function main() {
  assert.ok(baseUrl.startsWith('https://'), baseUrl);
  const juspay = new Juspay({ merchantId, apiKey, baseUrl });

  // Create order (form-encoded, as the SDK sends it).
  const orderId = `sdk_${suffix}`;
  const created = await juspay.order.create({
    order_id: orderId,
    amount: '10.00',
    currency: 'INR',
    customer_id: 'guest_user_101',
    customer_email: 'guest@example.com',
    return_url: 'https://shop.example/return',
  });
  assert.equal(created.http.statusCode, 200);
  assert.equal(created.status, 'CREATED');
  assert.equal(created.order_id, orderId);
  assert.ok(created.payment_links.web.startsWith(baseUrl + '/'), created.payment_links.web);
  console.log('ok create', created.id);

  // Status (GET with the SDK's own order_id query and version header).
  const status = await juspay.order.status(orderId);
  assert.equal(status.status, 'NEW');
  assert.equal(status.amount, 10);
  assert.equal(status.currency, 'INR');
  console.log('ok status');

  // Session (JSON body): payment links and the Process SDK payload.
  const sessionOrder = `sess_${suffix}`;
  const session = await juspay.orderSession.create({
    order_id: sessionOrder,
    amount: '1.00',
    customer_id: 'guest_user_101',
    payment_page_client_id: clientId,
    action: 'paymentPage',
    return_url: 'https://shop.example/return',
    first_name: 'Ada',
    language: 'english',
  });
  assert.equal(session.status, 'NEW');
  assert.equal(session.order_id, sessionOrder);
  assert.ok(session.payment_links.web);
  const payload = session.sdk_payload.payload;
  assert.equal(payload.action, 'paymentPage');
  assert.equal(payload.orderId, sessionOrder);
  assert.equal(payload.amount, '1.00');
  assert.match(payload.clientAuthToken, /^kct_/);
  console.log('ok session');

  // Pay the session's order as the payment page would: its client token, the sandbox bank page.
  const txn = await fetch(`${baseUrl}/txns`, {
    method: 'POST',
    headers: { authorization: `Bearer ${payload.clientAuthToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      order_id: session.id, payment_method_type: 'CARD', card_number: '4111111111111111',
      card_exp_month: '12', card_exp_year: '2039', card_security_code: '123', name_on_card: 'Ada',
    }),
  }).then((r) => r.json());
  assert.equal(txn.status, 'PENDING_VBV', JSON.stringify(txn));
  const bank = await fetch(txn.payment.authentication.url, {
    method: 'POST', redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'otp=123456&action=submit',
  });
  assert.equal(bank.status, 303);
  assert.equal((await juspay.order.status(sessionOrder)).status, 'CHARGED');
  console.log('ok paid');

  // Refunds: partial, then a repeat of the same unique_request_id returns the first answer.
  const refund = await juspay.order.refund(sessionOrder, { unique_request_id: `r1_${suffix}`, amount: '0.40' });
  assert.equal(refund.http.statusCode, 200);
  assert.equal(refund.amount_refunded, 0.4);
  assert.equal(refund.refunds.length, 1);
  assert.equal(refund.refunds[0].status, 'SUCCESS');
  const again = await juspay.order.refund(sessionOrder, { unique_request_id: `r1_${suffix}`, amount: '0.40' });
  assert.equal(again.amount_refunded, 0.4);
  assert.equal(again.refunds[0].id, refund.refunds[0].id);
  console.log('ok refund');

  // Errors arrive as the SDK's own error objects, parsed from Kassa's JSON body.
  const juspayError = (code) => (e) => {
    assert.ok(e instanceof JuspayError, String(e));
    assert.equal(e.status, 'error');
    assert.equal(e.error_code, code, JSON.stringify(e));
    assert.ok(e.error_message);
    return true;
  };
  await assert.rejects(juspay.order.refund(sessionOrder, { unique_request_id: `r2_${suffix}`, amount: '5.00' }), juspayError('invalid_refund_amount'));
  await assert.rejects(juspay.order.status('no_such_order'), juspayError('order_not_found'));
  const stranger = new Juspay({ merchantId, apiKey: 'ksk_wrong', baseUrl });
  await assert.rejects(stranger.order.status(orderId), juspayError('access_denied'));
  console.log('ok errors');
}

main().then(
  () => console.log('all ok'),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
