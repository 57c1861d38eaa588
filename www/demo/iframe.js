// Demo merchant page, plain iframe (docs/bridge.md §2): no Kassa loader; the
// shop's own code frames payment_links.iframe and checks every message the
// way the protocol asks: the payment link's exact origin, this very frame,
// version 1 and the nonce made for this frame. The result is a hint: the
// shop's backend confirms it (GET /orders/:id, the signed webhook).
const log = document.getElementById('events');
window.kassaEvents = [];

document.getElementById('pay').addEventListener('click', async () => {
  const r = await fetch('/api/session', { method: 'POST' });
  const session = await r.json();
  if (!r.ok) { document.getElementById('result').textContent = session.error ?? 'could not start'; return; }
  const link = session.sdk_payload.payload.paymentLinks.iframe;
  // 24 random bytes, base64url: this frame's nonce, passed in the fragment (never sent to a server).
  const nonce = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(24))))
    .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const frame = document.createElement('iframe');
  frame.title = 'Payment';
  frame.style.cssText = 'display:block;width:100%;border:0;height:0';
  frame.src = `${link}#kassa-nonce=${nonce}`;
  const origin = new URL(link).origin;
  window.addEventListener('message', (e) => {
    const d = e.data;
    if (e.origin !== origin || e.source !== frame.contentWindow || d?.kassa !== 1 || d.nonce !== nonce) return;
    window.kassaEvents.push(d);
    log.textContent += `${JSON.stringify(d)}\n`;
    if (d.type === 'resize' && Number.isInteger(d.height) && d.height >= 0) frame.style.height = `${d.height}px`;
    if (d.type === 'result') document.getElementById('result').textContent = d.status;
  });
  document.getElementById('payment').replaceChildren(frame);
  document.getElementById('pay').disabled = true;
});
