// Boots the hosted payment page: reads the configuration the server embedded
// and mounts the widget into #kassa. Loaded as a module; no inline script, so
// the page runs under a strict Content-Security-Policy.
//
// In the iframe variant it also reports the page's height to the host page,
// and only to an origin the merchant allowed (config.parent_origins, from the
// server): the parent's origin as the browser reports it, never "*".
import init, { mount } from '/assets/kassa_widget.js';

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
  await init();
  window.__kassa = mount(root, config);
} catch (e) {
  root.textContent = 'The payment page could not start. Reload to try again.';
  console.error('kassa: boot failed', e);
}

if (config?.variant === 'iframe' && window.parent !== window) {
  const ancestor = location.ancestorOrigins?.[0] ?? (document.referrer ? new URL(document.referrer).origin : '');
  if ((config.parent_origins ?? []).includes(ancestor)) {
    let last = 0;
    const report = () => {
      const height = Math.ceil(document.documentElement.getBoundingClientRect().height);
      if (height !== last) {
        last = height;
        window.parent.postMessage({ kassa: 1, type: 'resize', height }, ancestor);
      }
    };
    new ResizeObserver(report).observe(document.documentElement);
    report();
  }
}
