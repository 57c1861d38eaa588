// The npm package, as a front-end developer uses it: `npm pack` the built
// pkg/, install the tarball into a fresh Vite app in a temp folder, build it,
// serve the build on the merchant's (allowed) origin, open it in Chromium and
// pay through the bridge.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { startStack, ROOT } from './harness.mjs';

let stack;
before(async () => { stack = await startStack(); });
after(async () => { await stack?.stop(); });

test('npm pack → fresh Vite app → build → pay in Chromium, process_result charged', async () => {
  const app = path.join(stack.dir, 'vite-app');
  mkdirSync(path.join(app, 'src'), { recursive: true });
  const packed = execFileSync('npm', ['pack', path.join(ROOT, 'pkg'), '--pack-destination', stack.dir, '--silent'], { encoding: 'utf8' }).trim().split('\n').at(-1);
  const manifest = JSON.parse(readFileSync(path.join(ROOT, 'pkg/package.json'), 'utf8'));
  assert.equal(manifest.name, 'kassa-checkout');
  assert.equal(manifest.types, './index.d.ts');
  assert.ok(!readFileSync(path.join(ROOT, 'pkg/index.d.ts'), 'utf8').match(/\bany\b/), 'no `any` in the types');
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'shop-front', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--silent', path.join(stack.dir, packed)], { cwd: app, stdio: 'inherit' });
  writeFileSync(path.join(app, 'index.html'), `<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Shop front</title></head>
<body><main><h1>Shop front (Vite)</h1><div id="payment"></div><p>Result: <strong id="result"></strong></p></main>
<script type="module" src="/src/main.js"></script></body></html>`);
  writeFileSync(path.join(app, 'src/main.js'), `import { createKassa } from 'kassa-checkout';
const kassa = createKassa();
window.kassaEvents = [];
kassa.initiate({ requestId: 'init-1', service: 'in.juspay.hyperpay', payload: { action: 'initiate', merchantId: 'e2e' } }, (e) => {
  window.kassaEvents.push(e);
  if (e.event === 'process_result') document.getElementById('result').textContent = e.payload.status;
});
// In a real shop the backend returns this from POST /session; the test passes it in the URL fragment.
const sdk = JSON.parse(decodeURIComponent(location.hash.slice(1)));
kassa.process({ ...sdk, payload: { ...sdk.payload, container: '#payment' } });
`);
  execFileSync(process.execPath, [path.join(ROOT, 'tests/e2e/node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], { cwd: app, stdio: 'inherit' });
  const dist = path.join(app, 'dist');
  assert.ok(readdirSync(path.join(dist, 'assets')).some((f) => f.endsWith('.js')), 'Vite bundled the app');
  await stack.serveHost(stack.hostUrl, null, dist);

  // The merchant's backend: POST /session with the API key.
  const r = await fetch(`${stack.kassaUrl}/session`, {
    method: 'POST',
    headers: { Authorization: 'Basic ' + Buffer.from(`${stack.creds.api_key}:`).toString('base64'), 'content-type': 'application/json' },
    body: JSON.stringify({ order_id: `npm${Date.now()}`, amount: '42.00', customer_id: 'c1', payment_page_client_id: stack.creds.client_id, action: 'paymentPage' }),
  });
  const session = await r.json();
  assert.equal(r.status, 200, JSON.stringify(session));

  const page = await stack.newPage();
  await page.goto(`${stack.hostUrl}/#${encodeURIComponent(JSON.stringify(session.sdk_payload))}`);
  const frame = page.frameLocator('#payment iframe');
  await frame.locator('#kassa-tab-wallet').click();
  await frame.locator('input[value=PHONEPE]').check();
  await frame.locator('.kassa-pay').click();
  await frame.locator('button[value=approve]').click();
  await page.waitForFunction(() => window.kassaEvents.some((e) => e.event === 'process_result'), null, { timeout: 20000 });
  const events = await page.evaluate(() => window.kassaEvents);
  assert.deepEqual(events.map((e) => e.event), ['initiate_result', 'show_loader', 'hide_loader', 'process_result']);
  assert.equal(events[0].requestId, 'init-1');
  assert.ok(events.slice(1).every((e) => e.requestId === session.sdk_payload.requestId));
  assert.equal(events.at(-1).payload.status, 'charged');
  assert.equal((await stack.orderStatus(session.order_id)).body.status, 'CHARGED');
  assert.deepEqual(page.problems, []);
});
