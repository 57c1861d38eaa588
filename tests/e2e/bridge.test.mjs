// The bridge (docs/bridge.md) in a real browser, through the demo shop's
// integration pages: the script tag (session from Kassa, and orderDetails
// signed by the shop) and a hand-written iframe host pay end to end and get
// the result with the right requestId; the shop's backend gets the signed
// webhook; forged, replayed and future-version messages are ignored; a mobile
// webview's native bridge gets the result.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, payCardInFrame } from './harness.mjs';

let stack;
before(async () => { stack = await startStack(); });
after(async () => { await stack?.stop(); });

async function openScriptIntegration(page, which = 'script') {
  await page.goto(`${stack.shopUrl}/integrations/${which}`);
  await page.waitForFunction(() => window.kassaEvents?.some((e) => e.event === 'initiate_result'));
  await page.click('#pay');
  const frame = page.frameLocator('#payment iframe');
  await frame.locator('.kassa-pay:not([disabled])').waitFor();
  return frame;
}

test('script tag: initiate, process in an iframe, pay by card, process_result charged with the requestId', async () => {
  const page = await stack.newPage();
  const frame = await openScriptIntegration(page);
  await page.waitForFunction(() => window.kassaEvents.some((e) => e.event === 'hide_loader'));
  await payCardInFrame(frame);
  await page.waitForFunction(() => window.kassaEvents.some((e) => e.event === 'process_result'), null, { timeout: 20000 });
  const events = await page.evaluate(() => window.kassaEvents);
  assert.deepEqual(events.map((e) => e.event), ['initiate_result', 'show_loader', 'hide_loader', 'process_result']);
  assert.equal(events[0].payload.status, 'success');
  const processId = events[1].requestId;
  assert.match(processId, /^[0-9a-f]{32}$/, 'the session payload requestId');
  assert.ok(events.slice(1).every((e) => e.requestId === processId), JSON.stringify(events));
  const result = events.at(-1).payload;
  assert.equal(result.status, 'charged');
  assert.equal((await stack.orderStatus(result.orderId)).body.status, 'CHARGED');
  assert.equal(await page.textContent('#result'), 'charged');
  // The frame fits its content.
  const height = await page.evaluate(() => document.querySelector('#payment iframe').getBoundingClientRect().height);
  assert.ok(height > 200, String(height));
  assert.deepEqual(page.problems, []);
});

test('script tag, pre-authorization: process_result says authorized and the order holds the amount', async () => {
  const page = await stack.newPage();
  const frame = await openScriptIntegration(page, 'script?hold=1');
  assert.match(await frame.locator('#kassa-hold-note').textContent(), /will be held on your card, not charged now/);
  await payCardInFrame(frame);
  await page.waitForFunction(() => window.kassaEvents.some((e) => e.event === 'process_result'), null, { timeout: 20000 });
  const result = (await page.evaluate(() => window.kassaEvents)).at(-1).payload;
  assert.deepEqual([result.status, result.orderStatus], ['authorized', 'AUTHORIZED']);
  assert.equal((await stack.orderStatus(result.orderId)).body.status, 'AUTHORIZED');
  assert.deepEqual(page.problems, []);
});

test('forged, replayed and unknown-version messages are ignored; terminate reports backpressed', async () => {
  const page = await stack.newPage();
  const frame = await openScriptIntegration(page);
  await page.waitForFunction(() => window.kassaEvents.some((e) => e.event === 'hide_loader'));
  const inner = page.frames().find((f) => f.url().includes('/merchant/ipay/'));
  // From the Kassa frame itself, with a stale nonce and with a future protocol version.
  await inner.evaluate(() => {
    const nonce = sessionStorage.getItem('kassa-nonce');
    parent.postMessage({ kassa: 1, nonce: 'stale-nonce-from-an-earlier-session', type: 'result', status: 'CHARGED', order_id: 'x' }, '*');
    parent.postMessage({ kassa: 2, nonce, type: 'result', status: 'CHARGED', order_id: 'x' }, '*');
    parent.postMessage({ kassa: 1, nonce, type: 'no-such-type', status: 'CHARGED' }, '*');
  });
  // From the host page itself (not the frame), and from a frame on a foreign origin.
  await page.evaluate(() => window.postMessage({ kassa: 1, nonce: 'x', type: 'result', status: 'CHARGED', order_id: 'x' }, '*'));
  await page.evaluate((src) => {
    const f = document.createElement('iframe');
    f.src = src;
    document.body.append(f);
  }, `${stack.strangerUrl}/`);
  await stack.serveHost(stack.strangerUrl, `<!doctype html><title>evil</title><script>
    parent.postMessage({ kassa: 1, nonce: 'guess', type: 'result', status: 'CHARGED', order_id: 'x' }, '*');
  </script>`);
  await page.evaluate(() => { document.querySelector('body > iframe').src += '?again'; });
  await new Promise((r) => setTimeout(r, 1500));
  assert.ok(!(await page.evaluate(() => window.kassaEvents.some((e) => e.event === 'process_result'))), 'no forged result got through');
  await page.click('#close');
  const events = await page.evaluate(() => window.kassaEvents);
  assert.deepEqual(events.at(-1).payload, { status: 'backpressed' });
  assert.equal(await page.$('#payment iframe'), null);
  await frame.locator('body').count();
});

test('mobile webviews: the result page hands the result to the native bridge that is present', async () => {
  for (const [name, stub, read] of [
    ['React Native', 'window.ReactNativeWebView = { postMessage: (m) => window.__native.push(m) };', '__native'],
    ['iOS WKWebView', 'window.webkit = { messageHandlers: { kassa: { postMessage: (m) => window.__native.push(m) } } };', '__native'],
    ['Android', 'window.KassaAndroid = { onResult: (m) => window.__native.push(m) };', '__native'],
  ]) {
    const page = await stack.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    // The native side: stubs of the host objects each platform injects into its webview.
    await page.addInitScript(`window.__native = []; ${stub}`);
    // The shop's backend creates the order (no return URL) and the webview loads payment_links.mobile.
    await page.goto(`${stack.shopUrl}/integrations/mobile`);
    await page.click('#buy');
    await page.waitForURL(/\/merchant\/pay\/ord_[0-9a-f]{32}\?mobile=true$/);
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), true, `${name}: no horizontal scroll`);
    await page.click('#kassa-tab-nb');
    await page.check('input[value=NB_SBI]');
    await page.click('.kassa-pay');
    await page.waitForURL(/\/sandbox\/bank\//);
    await page.click('button[value=approve]');
    await page.waitForURL(/\/merchant\/result\//);
    await page.waitForFunction((k) => window[k].length > 0, read);
    const got = JSON.parse((await page.evaluate((k) => window[k], read))[0]);
    assert.match(got.order_id, /^shop[0-9a-f]{12}$/, name);
    assert.deepEqual(got, { kassa: 1, type: 'result', order_id: got.order_id, status: 'CHARGED', status_id: 21 }, name);
    assert.equal((await stack.orderStatus(got.order_id)).body.status, 'CHARGED', name);
    assert.deepEqual(page.problems, [], name);
    await page.context().close();
  }
});

test('signed orderDetails (Process SDK, RSA): the shop signs, Kassa checks, the page pays, the shop gets the signed webhook', async () => {
  const page = await stack.newPage();
  const frame = await openScriptIntegration(page, 'signed');
  await frame.locator('#kassa-tab-nb').click();
  await frame.locator('input[value=NB_HDFC]').check();
  await frame.locator('.kassa-pay').click();
  await frame.locator('button[value=approve]').click();
  await page.waitForFunction(() => window.kassaEvents.some((e) => e.event === 'process_result'), null, { timeout: 20000 });
  const events = await page.evaluate(() => window.kassaEvents);
  assert.deepEqual(events.map((e) => e.event), ['initiate_result', 'show_loader', 'hide_loader', 'process_result']);
  const requestId = events[1].requestId;
  assert.match(requestId, /^[0-9a-f]{32}$/);
  assert.ok(events.slice(1).every((e) => e.requestId === requestId), JSON.stringify(events));
  const { status, orderId } = events.at(-1).payload;
  assert.equal(status, 'charged');
  assert.match(orderId, /^sig[0-9a-f]{12}$/, 'the order id the shop signed');
  const order = (await stack.orderStatus(orderId)).body;
  assert.equal(order.status, 'CHARGED');
  assert.equal(order.amount, 499);
  // The shop's webhook receiver verified Kassa-Signature and kept each event once.
  const hooks = await stack.shopWebhooks(orderId, (ev) => ev.some((e) => e.event_name === 'ORDER_SUCCEEDED'));
  const succeeded = hooks.filter((e) => e.event_name === 'ORDER_SUCCEEDED');
  assert.equal(succeeded.length, 1, JSON.stringify(hooks));
  assert.equal(succeeded[0].status, 'CHARGED');
  assert.equal(new Set(hooks.map((e) => e.id)).size, hooks.length);
  assert.equal(await page.locator('#pay').isDisabled(), false, 'the checkout button is free again');
  assert.deepEqual(page.problems, []);
});

test('a webhook without a valid Kassa-Signature is refused by the shop', async () => {
  const body = JSON.stringify({ id: 'evt_forged', event_name: 'ORDER_SUCCEEDED', content: { order: { order_id: 'forged1', status: 'CHARGED' } } });
  const t = Math.floor(Date.now() / 1000);
  for (const sig of [undefined, `t=${t},v1=${'0'.repeat(64)}`, 'garbage']) {
    const r = await fetch(`${stack.shopUrl}/webhooks/kassa`, { method: 'POST', headers: { 'content-type': 'application/json', ...(sig ? { 'kassa-signature': sig } : {}) }, body });
    assert.equal(r.status, 401, String(sig));
  }
  assert.deepEqual(await stack.shopWebhooks('forged1', () => true), []);
});

test('plain iframe, the protocol written by hand: the shop frames the link, sizes it and gets the result', async () => {
  const page = await stack.newPage();
  await page.goto(`${stack.shopUrl}/integrations/iframe`);
  await page.click('#pay');
  const frame = page.frameLocator('#payment iframe');
  await frame.locator('#kassa-tab-wallet').click();
  await frame.locator('input[value=PAYTM]').check();
  // The frame is exactly as tall as its content says (no scrollbar, no collapse).
  await page.waitForFunction(() => {
    const last = window.kassaEvents.filter((d) => d.type === 'resize').at(-1);
    return last?.height > 200 && document.querySelector('#payment iframe').getBoundingClientRect().height === last.height;
  });
  const inner = page.frames().find((f) => f.url().includes('/merchant/ipay/'));
  assert.equal(await inner.evaluate(() => document.documentElement.scrollHeight <= window.innerHeight), true, 'no scrollbar in the frame');
  await frame.locator('.kassa-pay').click();
  await frame.locator('button[value=decline]').click();
  await page.waitForFunction(() => window.kassaEvents.some((d) => d.type === 'result'), null, { timeout: 20000 });
  const result = await page.evaluate(() => window.kassaEvents.find((d) => d.type === 'result'));
  assert.equal(result.status, 'AUTHORIZATION_FAILED');
  assert.equal(result.status_id, 27);
  assert.equal((await stack.orderStatus(result.order_id)).body.status, 'AUTHORIZATION_FAILED');
  assert.equal(await page.textContent('#result'), 'AUTHORIZATION_FAILED');
  assert.deepEqual(page.problems, []);
});

test("the checkout component reports a failing shop backend as api_failure and frees its button", async () => {
  const page = await stack.newPage();
  await page.goto(`${stack.shopUrl}/integrations/script`);
  await page.waitForFunction(() => window.kassaEvents?.some((e) => e.event === 'initiate_result'));
  await page.evaluate(() => {
    const b = document.createElement('button');
    b.id = 'broken';
    b.textContent = 'Pay (broken backend)';
    document.body.append(b);
    window.Kassa.checkout({ button: b, sessionUrl: '/api/no-such-route', container: '#payment' });
  });
  await page.click('#broken');
  await page.waitForFunction(() => window.kassaEvents.some((e) => e.event === 'process_result'));
  const last = await page.evaluate(() => window.kassaEvents.at(-1));
  assert.equal(last.payload.status, 'api_failure');
  assert.match(last.payload.error, /HTTP 404|not answer/);
  assert.equal(await page.locator('#broken').isDisabled(), false);
  assert.equal(await page.$('#payment iframe'), null, 'no payment page opened');
});
