// Demo merchant page, script-tag integration (docs/bridge.md): the shop's
// backend creates the session (POST /api/session → Kassa POST /session with
// the API key), this page hands the Process SDK payload to window.Kassa,
// which opens the payment page in #payment and reports back. The result is a
// hint: the shop's backend confirms it (GET /orders/:id, webhooks).
const log = document.getElementById('events');
window.kassaEvents = [];
const show = (e) => {
  window.kassaEvents.push(e);
  log.textContent += `${e.event} ${e.requestId ?? ''} ${JSON.stringify(e.payload)}\n`;
  if (e.event === 'process_result') document.getElementById('result').textContent = e.payload.status;
};

Kassa.initiate(
  { requestId: crypto.randomUUID(), service: 'in.juspay.hyperpay', payload: { action: 'initiate', merchantId: document.body.dataset.merchant, environment: 'sandbox' } },
  show,
);

document.getElementById('pay').addEventListener('click', async () => {
  const r = await fetch('/api/session', { method: 'POST' });
  const session = await r.json();
  if (!r.ok) { document.getElementById('result').textContent = session.error ?? 'could not start'; return; }
  const sdk = session.sdk_payload;
  Kassa.process({ ...sdk, payload: { ...sdk.payload, container: '#payment' } });
});
document.getElementById('close').addEventListener('click', () => Kassa.terminate());
