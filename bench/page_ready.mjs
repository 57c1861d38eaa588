// `cargo xtask bench`: payment page ready (the pay button enabled) after
// navigation, in headless Chromium on loopback, against a plain HTML form of
// the same content served by the same server. Loads alternate between the
// two, each in a fresh browser context (a first-time shopper: empty cache).
// The time is read in the page: performance.now() (ms since navigation
// start) when a MutationObserver first sees an enabled `.kassa-pay`.
//
//   node bench/page_ready.mjs PAGE_URL PLAIN_URL LOADS  → JSON on stdout
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.resolve(import.meta.dirname, '../tests/e2e/package.json'));
const { chromium } = require('playwright-core');
const [pageUrl, plainUrl, loads = '20'] = process.argv.slice(2);

const PROBE = `(() => {
  const seen = () => {
    const b = document.querySelector('.kassa-pay');
    if (b && !b.disabled && window.__ready === undefined) window.__ready = performance.now();
  };
  new MutationObserver(seen).observe(document, { subtree: true, childList: true, attributes: true });
  document.addEventListener('DOMContentLoaded', seen);
})();`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'],
});
async function once(url) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.addInitScript(PROBE);
  await page.goto(url);
  await page.waitForFunction(() => window.__ready !== undefined, null, { timeout: 20000 });
  const ms = await page.evaluate(() => window.__ready);
  // Where the payment page's time goes (ms since navigation start): the HTML
  // received, the wasm received, pay.js running, init() (compile +
  // instantiate) done, mount() done.
  const marks = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const wasm = performance.getEntriesByType('resource').find((r) => r.name.endsWith('.wasm'));
    const mark = (n) => performance.getEntriesByName(n)[0]?.startTime ?? null;
    return { html: nav?.responseEnd ?? null, wasm: wasm?.responseEnd ?? null, boot: mark('kassa:boot'), init: mark('kassa:init'), mount: mark('kassa:mount') };
  });
  await context.close();
  if (marks.boot !== null) result.phases.push(marks);
  return ms;
}
const result = { page: [], plain: [], phases: [] };
// One warm-up of each (the server's first answers, the browser's first start).
await once(pageUrl);
await once(plainUrl);
result.phases.length = 0;
for (let i = 0; i < Number(loads); i++) {
  result.page.push(await once(pageUrl));
  result.plain.push(await once(plainUrl));
}
await browser.close();
console.log(JSON.stringify(result));
