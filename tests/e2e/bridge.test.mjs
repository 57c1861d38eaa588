// The bridge (docs/bridge.md) in a real browser: the demo shop's script-tag
// integration pays end to end and its callback gets every event with the
// right requestId; forged, replayed and future-version messages are ignored;
// a mobile webview's native bridge gets the result.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './harness.mjs';

let stack;
before(async () => { stack = await startStack(); });
after(async () => { await stack?.stop(); });

async function openScriptIntegration(page) {
  await page.goto(`${stack.shopUrl}/integrations/script`);
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
  await frame.locator('#kassa-card-number').fill('4111 1111 1111 1111');
  await frame.locator('#kassa-card-expiry').fill('12/30');
  await frame.locator('#kassa-card-cvv').fill('123');
  await frame.locator('#kassa-card-name').fill('Asha Rao');
  await frame.locator('.kassa-pay').click();
  await frame.locator('#otp').fill('123456');
  await frame.locator('button[value=submit]').click();
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
    const order = await stack.createOrder(stack.creds, { order_id: `wv${Date.now()}`, amount: '20' });
    const page = await stack.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    // The native side: stubs of the host objects each platform injects into its webview.
    await page.addInitScript(`window.__native = []; ${stub}`);
    await page.goto(order.payment_links.mobile + '&payment_options=nb');
    await page.check('input[value=NB_SBI]');
    await page.click('.kassa-pay');
    await page.waitForURL(/\/sandbox\/bank\//);
    await page.click('button[value=approve]');
    await page.waitForURL(/\/merchant\/result\//);
    await page.waitForFunction((k) => window[k].length > 0, read);
    const got = JSON.parse((await page.evaluate((k) => window[k], read))[0]);
    assert.deepEqual(got, { kassa: 1, type: 'result', order_id: order.order_id, status: 'CHARGED', status_id: 21 }, name);
    await page.context().close();
  }
});
