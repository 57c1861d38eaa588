// The time a card payment takes through each gateway, over HTTP as a
// browser would make the shopper's requests: POST /txns, the way to the
// authentication page, the OTP, and (for Razorpay and Paytm) the callback
// Kassa verifies and confirms with the gateway's API, up to the signed
// redirect to the return URL. The built-in sandbox is the baseline.
// Usage: node bench/gateway_pay.mjs KASSA_URL API_KEY PAYMENTS  → JSON on stdout.
const [base, apiKey, count] = [process.argv[2], process.argv[3], Number(process.argv[4] ?? 30)];
const auth = 'Basic ' + Buffer.from(`${apiKey}:`).toString('base64');
const form = (o) => new URLSearchParams(o).toString();
const unescape = (s) => s.replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
function formOf(html) {
  const f = html.slice(html.indexOf('<form'));
  const action = unescape(f.match(/action="([^"]*)"/)[1]);
  const fields = [...f.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)].map((m) => [unescape(m[1]), unescape(m[2])]);
  return { action: new URL(action, base).href, fields };
}
async function post(url, fields) {
  return fetch(url, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form(fields) });
}

async function pay(gatewayId, n) {
  const orderId = `g${gatewayId}x${n + 1}x${Date.now() % 1e9}`;
  const created = await (await fetch(`${base}/orders`, {
    method: 'POST', headers: { Authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
    body: form({ order_id: orderId, amount: '499.00', customer_id: 'b', customer_email: 'b@example.in', customer_phone: '9999999999',
      description: 'Bench', return_url: 'https://shop.example/ret', gateway_id: String(gatewayId), 'options.get_client_auth_token': 'true' }),
  })).json();
  if (!created.juspay) throw new Error(`POST /orders: ${JSON.stringify(created)}`);
  const token = created.juspay.client_auth_token;
  const t0 = performance.now();
  const txn = await (await fetch(`${base}/txns`, {
    method: 'POST', headers: { Authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ order_id: created.id, payment_method_type: 'CARD', card_number: '4111111111111111', card_exp_month: '12',
      card_exp_year: '2039', card_security_code: '123', name_on_card: 'Bench' }),
  })).json();
  let url = new URL(txn.payment.authentication.url, base).href;
  let page;
  let r = await fetch(url, { redirect: 'manual' });
  if (r.status === 303) r = await fetch(new URL(r.headers.get('location'), base).href, { redirect: 'manual' });
  page = await r.text();
  if (!page.includes('One-time password')) {
    // Paytm: Kassa's page posts the bank form to the gateway.
    const { action, fields } = formOf(page);
    page = await (await post(action, fields)).text();
  }
  let { action, fields } = formOf(page);
  r = await post(action, [...fields, ['otp', '123456'], ['action', 'submit']]);
  if (r.status === 200) {
    // The gateway's signed callback, posted back to Kassa.
    ({ action, fields } = formOf(await r.text()));
    r = await post(action, fields);
  }
  const location = r.headers.get('location') ?? '';
  const ms = performance.now() - t0;
  if (r.status !== 303 || !location.includes('status=CHARGED')) throw new Error(`gateway ${gatewayId}: ended ${r.status} ${location}`);
  return ms;
}

const out = {};
for (const [name, id] of [['sandbox', 999], ['razorpay', 23], ['paytm', 18]]) {
  await pay(id, -1); // warm up
  const xs = [];
  for (let i = 0; i < count; i++) xs.push(await pay(id, i));
  xs.sort((a, b) => a - b);
  out[name] = { payments: xs.length, median_ms: xs[Math.floor(xs.length / 2)], p95_ms: xs[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))] };
}
console.log(JSON.stringify(out));
