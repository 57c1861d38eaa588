// Boots the hosted payment page: reads the configuration the server embedded
// and mounts the widget into #kassa. Loaded as a module; no inline script, so
// the page runs under a strict Content-Security-Policy.
//
// In the iframe variant it also talks to the host page through the bridge
// (www/frame.js, docs/bridge.md): `ready` once mounted, `resize` whenever the
// page's height changes.
import init, { mount } from '/assets/kassa_widget.js';
import { parentChannel } from '/static/frame.js';

const root = document.getElementById('kassa');
let config;
try {
  config = JSON.parse(document.getElementById('kassa-config').textContent);
  // The merchant's theme, validated by the server: custom properties through
  // the CSSOM (the CSP allows no style attribute) and appearance classes.
  for (const [name, value] of Object.entries(config.theme_vars ?? {})) {
    if (name.startsWith('--kassa-theme-')) root.style.setProperty(name, value);
  }
  if (config.appearance === 'dark' || config.appearance === 'light') root.classList.add(`kassa-${config.appearance}`);
  if (config.logo) root.classList.add('kassa-has-logo');
  // Marks for the page-ready benchmark's breakdown (bench/page_ready.mjs).
  performance.mark('kassa:boot');
  await init();
  performance.mark('kassa:init');
  window.__kassa = mount(root, config);
  performance.mark('kassa:mount');
} catch (e) {
  root.textContent = 'The payment page could not start. Reload to try again.';
  console.error('kassa: boot failed', e);
}

const channel = config?.variant === 'iframe' ? parentChannel(config.parent_origins ?? []) : null;
if (channel) {
  let last = 0;
  const report = () => {
    const height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height !== last) {
      last = height;
      channel.post('resize', { height });
    }
  };
  new ResizeObserver(report).observe(document.documentElement);
  report();
  channel.post('ready', { order_id: config.order?.order_id });
}
