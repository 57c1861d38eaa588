// The npm package, as a front-end developer uses it: `npm pack` the built
// pkg/, install the tarball into the demo shop's Vite app (www/demo/npm, in
// TypeScript) in a temp folder, type-check it with tsc --strict (including
// misuses the types must refuse), build it with Vite, let the shop serve it
// on its (allowed) origin, open it in Chromium and pay through the bridge.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync, readdirSync, copyFileSync } from 'node:fs';
import path from 'node:path';
import { startStack, ROOT } from './harness.mjs';

let stack;
before(async () => { stack = await startStack(); });
after(async () => { await stack?.stop(); });

// What the types must refuse: if they were loose (`any`), these lines would
// not be errors and tsc would fail on the unused @ts-expect-error.
const MISUSES = `import { createKassa, type ProcessStatus, type KassaEvent } from 'kassa-checkout';
const kassa = createKassa();
// @ts-expect-error a process payload needs requestId, service and payload
void kassa.process({});
// @ts-expect-error not a process_result status
const paid: ProcessStatus = 'paid';
// @ts-expect-error the checkout component needs a sessionUrl
kassa.checkout({ button: '#pay' });
export const check = (e: KassaEvent): string => {
  if (e.event === 'process_result') {
    // @ts-expect-error the payload has no such field
    return e.payload.amount;
  }
  return paid;
};
`;

test('npm pack → the Vite demo app (tsc --strict) → build → served by the shop → pay, process_result charged', async () => {
  const app = stack.npmAppDir;
  mkdirSync(app, { recursive: true });
  const packed = execFileSync('npm', ['pack', path.join(ROOT, 'pkg'), '--pack-destination', stack.dir, '--silent'], { encoding: 'utf8' }).trim().split('\n').at(-1);
  const manifest = JSON.parse(readFileSync(path.join(ROOT, 'pkg/package.json'), 'utf8'));
  assert.equal(manifest.name, 'kassa-checkout');
  assert.equal(manifest.types, './index.d.ts');
  for (const field of ['version', 'license', 'files', 'sideEffects']) assert.ok(manifest[field], field);
  assert.ok(!readFileSync(path.join(ROOT, 'pkg/index.d.ts'), 'utf8').match(/\bany\b/), 'no `any` in the types');
  for (const file of ['index.html', 'main.ts']) copyFileSync(path.join(ROOT, 'www/demo/npm', file), path.join(app, file));
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'shop-front', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--silent', path.join(stack.dir, packed)], { cwd: app, stdio: 'inherit' });

  writeFileSync(path.join(app, 'misuses.ts'), MISUSES);
  writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { strict: true, noEmit: true, target: 'es2022', module: 'esnext', moduleResolution: 'bundler', lib: ['es2022', 'dom'], skipLibCheck: false },
    files: ['main.ts', 'misuses.ts'],
  }));
  execFileSync(process.execPath, [path.join(ROOT, 'tests/e2e/node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: app, stdio: 'inherit' });

  execFileSync(process.execPath, [path.join(ROOT, 'xtask/tools/node_modules/vite/bin/vite.js'), 'build', '--base', './', '--logLevel', 'warn'], { cwd: app, stdio: 'inherit' });
  assert.ok(readdirSync(path.join(app, 'dist/assets')).some((f) => f.endsWith('.js')), 'Vite bundled the app');

  const page = await stack.newPage();
  await page.goto(`${stack.shopUrl}/integrations/npm/`);
  await page.click('#pay');
  const frame = page.frameLocator('#payment iframe');
  await frame.locator('#kassa-tab-wallet').click();
  await frame.locator('input[value=PHONEPE]').check();
  await frame.locator('.kassa-pay').click();
  await frame.locator('button[value=approve]').click();
  await page.waitForFunction(() => window.kassaEvents.some((e) => e.event === 'process_result'), null, { timeout: 20000 });
  const events = await page.evaluate(() => window.kassaEvents);
  assert.deepEqual(events.map((e) => e.event), ['initiate_result', 'show_loader', 'hide_loader', 'process_result']);
  assert.equal(events[0].payload.status, 'success');
  const requestId = events[1].requestId;
  assert.match(requestId, /^[0-9a-f]{32}$/, 'the requestId of the session payload');
  assert.ok(events.slice(1).every((e) => e.requestId === requestId));
  const { status, orderId } = events.at(-1).payload;
  assert.equal(status, 'charged');
  assert.equal((await stack.orderStatus(orderId)).body.status, 'CHARGED');
  assert.equal(await page.textContent('#result'), 'charged');
  assert.deepEqual(page.problems, []);
});
