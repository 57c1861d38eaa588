// Boots the hosted payment page: reads the configuration the server embedded
// and mounts the widget into #kassa. Loaded as a module; no inline script, so
// the page runs under a strict Content-Security-Policy.
import init, { mount } from '/assets/kassa_widget.js';

const root = document.getElementById('kassa');
try {
  const config = JSON.parse(document.getElementById('kassa-config').textContent);
  await init();
  window.__kassa = mount(root, config);
} catch (e) {
  root.textContent = 'The payment page could not start. Reload to try again.';
  console.error('kassa: boot failed', e);
}
