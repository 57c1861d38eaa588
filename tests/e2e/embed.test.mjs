// The iframe variant framed by a host page, the merchant's theme, and dark
// mode, in a real browser: heights reported only to the allowed origin, a
// host the merchant did not allow cannot frame the page, the theme keeps AA
// contrast (axe-core finds nothing) in light and dark.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startStack, SCREENSHOTS, payCardInFrame } from './harness.mjs';

let stack;
before(async () => { stack = await startStack(); });
after(async () => { await stack?.stop(); });

const NONCE = 'e2e-nonce-0123456789abcdef';

/** A host page that frames `src` (with the bridge nonce) and records the messages it gets. */
const hostPage = (src, kassaOrigin) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Host shop</title>
<style>body{font-family:sans-serif;background:#f3efe6;margin:0;padding:24px}h1{font-size:20px}iframe{display:block;width:420px;border:0;height:150px;background:transparent}</style></head>
<body><main><h1>Checkout at the host shop</h1><iframe id="pay" title="Payment" src="${src}#kassa-nonce=${NONCE}"></iframe></main>
<script>
window.msgs = [];
const frame = document.getElementById('pay');
window.addEventListener('message', (e) => {
  if (e.origin !== ${JSON.stringify(kassaOrigin)} || e.source !== frame.contentWindow || e.data?.nonce !== ${JSON.stringify(NONCE)}) return;
  window.msgs.push(e.data);
  if (e.data && e.data.kassa === 1 && e.data.type === 'resize') frame.style.height = e.data.height + 'px';
});
</script></body></html>`;

test('iframe variant: framed by the allowed host, sized by its height messages, paid by card inside the frame', async () => {
  const order = await stack.createOrder(stack.creds, { order_id: `ifr${Date.now()}`, amount: '249.00', return_url: `${stack.shopUrl}/return` });
  await stack.serveHost(stack.hostUrl, hostPage(order.payment_links.iframe, stack.kassaUrl));
  const page = await stack.newPage({ viewport: { width: 900, height: 900 } });
  await page.goto(`${stack.hostUrl}/`);
  const frame = page.frameLocator('#pay');
  await frame.locator('.kassa-pay:not([disabled])').waitFor();
  await page.waitForFunction(() => window.msgs.some((m) => m.type === 'resize' && m.height > 300));
  const messages = await page.evaluate(() => window.msgs);
  assert.ok(messages.some((m) => m.type === 'ready'), JSON.stringify(messages));
  assert.ok(messages.filter((m) => m.type === 'resize').every((m) => m.kassa === 1 && Number.isInteger(m.height)), JSON.stringify(messages));
  // The host sized the frame to the content: no scrollbar inside, nothing cut off.
  const inner = page.frames().find((f) => f.url().startsWith(`${stack.kassaUrl}/merchant/ipay/`));
  await page.waitForFunction(() => Math.abs(document.getElementById('pay').getBoundingClientRect().height - window.msgs.filter((m) => m.type === 'resize').at(-1).height) < 1);
  const fit = await inner.evaluate(() => ({ scroll: document.documentElement.scrollHeight, client: document.documentElement.clientHeight }));
  assert.ok(fit.scroll <= fit.client, JSON.stringify(fit));
  assert.equal(await inner.evaluate(() => getComputedStyle(document.querySelector('.kassa')).backgroundColor), 'rgba(0, 0, 0, 0)', 'transparent');
  assert.equal(await inner.$('.kassa-web, .kassa-mobile'), null);
  assert.ok(await inner.$('.kassa-iframe'));
  assert.deepEqual(await stack.axe(inner), [], 'axe-core inside the iframe');
  await page.screenshot({ path: path.join(SCREENSHOTS, 'payment-page-iframe.png') });
  await payCardInFrame(frame);
  // In the frame the attempt ends on Kassa's result page, which hands the result to the host.
  await page.waitForFunction(() => window.msgs.some((m) => m.type === 'result'), null, { timeout: 20000 });
  const result = (await page.evaluate(() => window.msgs)).find((m) => m.type === 'result');
  assert.deepEqual({ ...result, nonce: undefined }, { kassa: 1, nonce: undefined, type: 'result', order_id: order.order_id, status: 'CHARGED', status_id: 21 });
  assert.equal(await frame.locator('h1').textContent(), 'Payment successful');
  assert.equal((await stack.orderStatus(order.order_id)).body.status, 'CHARGED');
  assert.deepEqual(page.problems, []);
});

test('iframe variant: a UPI collect fails inside the frame (failure@kassa)', async () => {
  const order = await stack.createOrder(stack.creds, { order_id: `ifu${Date.now()}`, amount: '10', return_url: `${stack.shopUrl}/return` });
  const page = await stack.newPage();
  // The allowed host serves the page of the previous test; point its frame at this order.
  await page.goto(`${stack.hostUrl}/`);
  await page.evaluate(([src, nonce]) => { document.getElementById('pay').src = `${src}#kassa-nonce=${nonce}`; }, [order.payment_links.iframe + '?payment_options=upi', NONCE]);
  const frame = page.frameLocator('#pay');
  await frame.locator('#kassa-upi-id').fill('failure@kassa');
  await frame.locator('.kassa-pay').click();
  await frame.locator('.kassa-collect').waitFor();
  await page.waitForFunction(() => window.msgs.some((m) => m.type === 'result'), null, { timeout: 20000 });
  assert.equal((await page.evaluate(() => window.msgs)).find((m) => m.type === 'result').status, 'AUTHORIZATION_FAILED');
  assert.equal(await frame.locator('h1').textContent(), 'Payment not completed');
});

test('iframe variant: a pre-authorization holds the amount and hands AUTHORIZED to the host', async () => {
  const order = await stack.createOrder(stack.creds, {
    order_id: `ifh${Date.now()}`, amount: '120', return_url: `${stack.shopUrl}/return`, 'metadata.txns.auto_capture': 'false',
  });
  const page = await stack.newPage();
  // The allowed host serves the page of the first test; point its frame at this order.
  await page.goto(`${stack.hostUrl}/`);
  await page.evaluate(([src, nonce]) => { document.getElementById('pay').src = `${src}#kassa-nonce=${nonce}`; }, [order.payment_links.iframe, NONCE]);
  const frame = page.frameLocator('#pay');
  await frame.locator('.kassa-pay:not([disabled])').waitFor();
  assert.equal(await frame.locator('#kassa-hold-note').textContent(),
    '₹120.00 will be held on your card, not charged now. The shop charges it later or releases it.');
  await payCardInFrame(frame);
  await page.waitForFunction(() => window.msgs.some((m) => m.type === 'result'), null, { timeout: 20000 });
  const result = (await page.evaluate(() => window.msgs)).find((m) => m.type === 'result');
  assert.deepEqual([result.status, result.status_id], ['AUTHORIZED', 25]);
  assert.equal(await frame.locator('h1').textContent(), 'Amount held');
  assert.equal((await stack.orderStatus(order.order_id)).body.status, 'AUTHORIZED');
});

test('a host the merchant did not allow cannot frame the payment page, and gets no message', async () => {
  const order = await stack.createOrder(stack.creds, { order_id: `ifx${Date.now()}`, amount: '10' });
  await stack.serveHost(stack.strangerUrl, hostPage(order.payment_links.iframe, stack.kassaUrl));
  const page = await stack.newPage();
  const refused = page.waitForEvent('console', (m) => m.text().includes('frame-ancestors'));
  await page.goto(`${stack.strangerUrl}/`);
  await refused;
  await new Promise((r) => setTimeout(r, 1000));
  assert.deepEqual(await page.evaluate(() => window.msgs), []);
  const inner = page.frames().find((f) => f !== page.mainFrame());
  const rendered = await inner.$('.kassa').then((el) => el !== null, () => false);
  assert.equal(rendered, false, 'the payment page must not render in a foreign frame');
});

test("the merchant's theme in dark mode: accent, radius and logo applied, contrast kept (axe-core)", async () => {
  const order = await stack.createOrder(stack.themed, { order_id: `thm${Date.now()}`, amount: '1299.00' });
  const page = await stack.newPage({ viewport: { width: 1280, height: 860 } });
  await page.goto(order.payment_links.web);
  await page.waitForSelector('.kassa-pay:not([disabled])');
  const style = await page.evaluate(() => {
    const pay = getComputedStyle(document.querySelector('.kassa-pay'));
    const logo = getComputedStyle(document.querySelector('.kassa-summary'), '::before');
    return {
      pay: pay.backgroundColor, payText: pay.color, radius: pay.borderTopLeftRadius,
      surface: getComputedStyle(document.querySelector('.kassa')).backgroundColor, logo: logo.backgroundImage.startsWith('url("data:image/svg+xml;base64,'),
    };
  });
  assert.deepEqual(style, {
    pay: 'rgb(255, 204, 0)', payText: 'rgb(0, 0, 0)', radius: '4px', surface: 'rgb(23, 27, 33)', logo: true,
  });
  assert.deepEqual(await stack.axe(page), [], 'axe-core, themed, dark');
  await page.screenshot({ path: path.join(SCREENSHOTS, 'payment-page-dark-themed.png') });
  assert.deepEqual(page.problems, []);
});

test("dark mode follows the shopper's system setting, with no axe-core violations", async () => {
  const order = await stack.createOrder(stack.creds, { order_id: `drk${Date.now()}`, amount: '5' });
  const page = await stack.newPage({ colorScheme: 'dark' });
  await page.goto(order.payment_links.web + '?payment_options=nb');
  await page.waitForSelector('.kassa-pay:not([disabled])');
  assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('.kassa')).backgroundColor), 'rgb(23, 27, 33)');
  assert.deepEqual(await stack.axe(page), [], 'axe-core, dark');
  await page.fill('#kassa-bank-search', 'zz');
  assert.deepEqual(await stack.axe(page), [], 'axe-core, dark, no bank matches');
  assert.deepEqual(page.problems, []);
});
